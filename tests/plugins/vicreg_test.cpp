// VICReg loss terms on inputs whose values are known by hand, and the augmentations for two views.
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(Vicreg, CollapsedEmbeddingsPayTheFullVarianceTerm) {
    auto z = torch::ones({64, 8}) * 3.0;
    auto t = vicreg(z, z);
    EXPECT_NEAR(t.invariance.item<double>(), 0.0, 1e-9);
    EXPECT_NEAR(t.variance.item<double>(), 1.0 - std::sqrt(1e-4), 1e-6); // relu(1 - sqrt(0 + 1e-4)) per dim
    EXPECT_NEAR(t.covariance.item<double>(), 0.0, 1e-9);
    EXPECT_NEAR(t.loss.item<double>(), 25.0 * (1.0 - std::sqrt(1e-4)), 1e-4);
}

TEST(Vicreg, InvarianceIsTheMeanSquaredErrorAndCovarianceCountsOffDiagonals) {
    torch::manual_seed(0);
    auto z1 = torch::randn({4096, 4}) * 2.0; // sd 2: no variance penalty
    auto z2 = z1 + 0.5;
    auto t = vicreg(z1, z2);
    EXPECT_NEAR(t.invariance.item<double>(), 0.25, 1e-6);
    EXPECT_NEAR(t.variance.item<double>(), 0.0, 1e-9);
    EXPECT_LT(t.covariance.item<double>(), 0.1);                                 // independent dimensions
    auto dup = torch::cat({z1.slice(1, 0, 1), z1.slice(1, 0, 1)}, 1);            // two identical dims, variance 4
    double cov = vicreg(dup, dup).covariance.item<double>() / 2.0;               // per view
    EXPECT_NEAR(cov, 2 * std::pow(dup.var(0)[0].item<double>(), 2) / 2.0, 1e-3); // C_01^2 + C_10^2 over D = 2
}

TEST(Augment, ShiftMovesPixelsAndNoiseIsSeeded) {
    auto x = torch::zeros({1, 1, 5, 5});
    x[0][0][2][2] = 1.0;
    auto g1 = iclr::make_generator(1), g2 = iclr::make_generator(1);
    auto a = random_shift(2, 0.0)(x, g1), b = random_shift(2, 0.0)(x, g2);
    EXPECT_TRUE(torch::equal(a, b));               // same seed, same view
    EXPECT_DOUBLE_EQ(a.sum().item<double>(), 1.0); // a shift of at most 2 keeps the centre pixel
    auto n = gaussian_noise(0.1)(torch::zeros({1000}).view({10, 1, 10, 10}), g1);
    EXPECT_NEAR(n.std().item<double>(), 0.1, 0.01);
}

TEST(Augment, ResizedCropsStayInRangeKeepConstantsAndAreSeeded) {
    torch::manual_seed(0);
    auto x = torch::rand({4, 1, 8, 8});
    auto g = iclr::make_generator(2);
    // Bilinear resampling of a crop inside the image: same shape, values within the input's range.
    auto crop = random_resized_crop(0.2, 1.0)(x, g);
    EXPECT_EQ(crop.sizes(), x.sizes());
    EXPECT_GE(crop.min().item<double>(), x.min().item<double>() - 1e-6);
    EXPECT_LE(crop.max().item<double>(), x.max().item<double>() + 1e-6);
    EXPECT_FALSE(torch::allclose(crop, x)); // and it is not the image itself
    auto constant = torch::full({2, 1, 8, 8}, 0.7);
    EXPECT_LT((random_resized_crop(0.1, 0.3)(constant, g) - 0.7).abs().max().item<double>(), 1e-6);
    auto g1 = iclr::make_generator(5), g2 = iclr::make_generator(5);
    EXPECT_TRUE(torch::equal(random_resized_crop()(x, g1), random_resized_crop()(x, g2)));
}

TEST(Augment, ContrastScalesTheSpreadAboutTheImageMeanAndCutoutBlanksOneSquare) {
    torch::manual_seed(0);
    auto x = torch::rand({3, 1, 6, 6});
    auto g = iclr::make_generator(3);
    auto c = random_contrast(0.5, 0.5)(x, g); // f = 0.5 exactly
    EXPECT_TRUE(torch::allclose(c.mean({1, 2, 3}), x.mean({1, 2, 3}), 1e-6, 1e-6));
    for (int64_t i = 0; i < 3; ++i)
        EXPECT_NEAR(c[i].std().item<double>(), 0.5 * x[i].std().item<double>(), 1e-5);
    auto ones = torch::ones({5, 1, 8, 8});
    auto cut = cutout(3, 0.0)(ones, g);
    for (int64_t i = 0; i < 5; ++i)
        EXPECT_DOUBLE_EQ(cut[i].sum().item<double>(), 64.0 - 9.0); // exactly one 3 x 3 square, inside
}
