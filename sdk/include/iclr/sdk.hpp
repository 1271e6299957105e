// The whole plugin SDK in one include: what a plugin .cpp starts with.
#pragma once

#include "iclr/abi.h"
#include "iclr/accuracy_matrix.hpp"
#include "iclr/augment.hpp"
#include "iclr/cache.hpp"
#include "iclr/classifier.hpp"
#include "iclr/context.hpp"
#include "iclr/continual_metrics.hpp"
#include "iclr/dataset.hpp"
#include "iclr/eval.hpp"
#include "iclr/learner.hpp"
#include "iclr/method.hpp"
#include "iclr/metric.hpp"
#include "iclr/model.hpp"
#include "iclr/params.hpp"
#include "iclr/plugin.hpp"
#include "iclr/replay.hpp"
