// `iclr query SQL`: read-only SQL over the results database, rendered as table, CSV, JSON or Markdown.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/results_layout.hpp"
#include "store/query.hpp"
#include "store/store.hpp"

namespace iclr {

int cmd_query(const std::string& sql, const std::string& format, const CommonOptions& c) {
    Format f = parse_format(format);
    auto store = Store::open_read(c.db_path());
    ResultSet rs = run_query(*store, sql, f == Format::Csv || f == Format::Json);
    fmt::print("{}", render(rs, f));
    return 0;
}

} // namespace iclr
