// `iclr report` in a real browser: the forgetting sweep's CI run reported to one HTML page, opened
// in headless Chromium from file:// with every network connection sent to a closed port; through
// the DOM, every figure drew SVG marks and the claim table says what `iclr verify` says; a
// screenshot is taken. Plus the Markdown summary, `[[plot]]` errors at file:line:col, and a page
// that carries no reference to anything outside itself.
#include <gtest/gtest.h>

#include <regex>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

const char* kChromium = "/usr/bin/chromium";

// Chromium as the machine notes say it runs here: headless, no sandbox (root), no background
// traffic, a fresh profile; plus a proxy on a closed port, so any request for the network fails.
std::vector<std::string> chromium(Scratch& s, std::vector<std::string> extra) {
    std::vector<std::string> argv{"--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-quic",
                                  "--no-first-run",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--proxy-server=127.0.0.1:9",
                                  "--user-data-dir=" + s.path("chromium-profile"),
                                  "--virtual-time-budget=20000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

// The text of each element whose opening tag matches `open` up to the matching `close`.
std::vector<std::string> sections(const std::string& dom, const std::string& open, const std::string& close) {
    std::vector<std::string> out;
    for (size_t at = dom.find(open); at != std::string::npos; at = dom.find(open, at + 1)) {
        size_t end = dom.find(close, at);
        out.push_back(dom.substr(at, end == std::string::npos ? std::string::npos : end - at));
    }
    return out;
}

std::string strip_tags(const std::string& html) {
    return std::regex_replace(std::regex_replace(html, std::regex("<[^>]*>"), ""), std::regex("&amp;"), "&");
}

} // namespace

TEST(Report, ForgettingSweepPageDrawsEveryFigureInChromiumAndAgreesWithVerify) {
    ASSERT_TRUE(std::filesystem::exists(kChromium)) << "Debian's chromium is missing: run `make test-deps`";
    Scratch s;
    std::string sweep = shipped_sweep("forgetting_vs_scale");
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    std::string page = s.path("forgetting.html");
    auto r = s.run({"report", sweep, "--profile", "ci", "--out", page});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "5 runs, 9 claims, 13 figures")) << r.out;
    std::string html = slurp(page);
    // Self-contained: no script or style is fetched, nothing names a remote resource to load.
    EXPECT_EQ(html.find("<script src"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("\"$schema\""), std::string::npos);
    // The runs' flat table travels with the page: a download link holding, byte for byte, what
    // `iclr table` writes as CSV (its notes on stderr aside).
    std::smatch link;
    ASSERT_TRUE(std::regex_search(html, link,
                                  std::regex("<a id=\"runs-csv\" download=\"forgetting_vs_scale\\.csv\" "
                                             "href=\"data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)\">")));
    auto csv = s.run_binary("/usr/bin/base64", {"-d", s.write("runs.b64", link[1].str())});
    ASSERT_EQ(csv.code, 0) << csv.out;
    auto table = s.run({"table", sweep, "--profile", "ci", "--format", "csv"});
    ASSERT_EQ(table.code, 0) << table.out;
    EXPECT_EQ(csv.out, table.out.substr(0, table.out.find("iclr table: note:")));
    EXPECT_EQ(occurrences(csv.out, "\n"), 6u) << csv.out; // the header and the 5 runs

    auto dom = s.run_binary(kChromium, chromium(s, {"--dump-dom", "file://" + page}));
    ASSERT_EQ(dom.code, 0) << dom.out.substr(0, 2000);
    // Every figure: the 9 claims (each has rows) + the sweep's 4 declared plots (a heatmap, a frontier), each an SVG
    // with marks.
    auto figures = sections(dom.out, "<div class=\"plot", "</figure>"); // vega-embed adds classes
    ASSERT_EQ(figures.size(), 13u) << dom.out.substr(0, 3000);
    for (const auto& f : figures) {
        EXPECT_TRUE(has(f, "<svg")) << f.substr(0, 300);
        EXPECT_TRUE(std::regex_search(f, std::regex("class=\"mark-(symbol|line|rule|rect|tick)"))) << f.substr(0, 300);
    }
    EXPECT_TRUE(has(dom.out, "13 of 13 figures drawn"))
        << dom.out.substr(dom.out.size() > 3000 ? dom.out.size() - 3000 : 0);

    // The claim table: each claim's verdict as `iclr verify` computes it.
    auto v = s.run({"verify", sweep, "--profile", "ci", "--format", "json"});
    ASSERT_EQ(v.code, 0) << v.out;
    auto rows = sections(dom.out, "<tr><td>", "</tr>");
    int matched = 0;
    int claims = std::stoi(s.sql("SELECT json_array_length(?1)", {v.out}));
    EXPECT_EQ(claims, 9) << v.out;
    for (int i = 0; i < claims; ++i) {
        std::string claim = s.sql("SELECT json_extract(?1, '$[' || ?2 || '].claim')", {v.out, std::to_string(i)});
        std::string verdict = s.sql("SELECT json_extract(?1, '$[' || ?2 || '].verdict')", {v.out, std::to_string(i)});
        for (const auto& row : rows) {
            std::string text = strip_tags(row);
            if (has(text, claim) && has(text, verdict)) {
                ++matched;
                break;
            }
        }
    }
    EXPECT_EQ(matched, claims) << v.out;

    std::string png = s.path("forgetting.png");
    auto shot =
        s.run_binary(kChromium, chromium(s, {"--screenshot=" + png, "--window-size=1280,2400", "file://" + page}));
    ASSERT_EQ(shot.code, 0) << shot.out.substr(0, 2000);
    std::string bytes = slurp(png);
    ASSERT_GT(bytes.size(), 10000u);
    EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

TEST(Report, MarkdownSummaryAndPlotErrorsAtTheirPosition) {
    Scratch s;
    std::string sweep = shipped_sweep("forgetting_vs_scale");
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    auto md = s.run({"report", sweep, "--profile", "ci", "--format", "md", "--html", "f.html"});
    ASSERT_EQ(md.code, 0) << md.out;
    EXPECT_TRUE(has(md.out, "## forgetting_vs_scale")) << md.out;
    EXPECT_TRUE(has(md.out, "Report: [f.html](f.html)")) << md.out;
    EXPECT_TRUE(has(md.out, "| claim | n | estimate | 95% CI | verdict |")) << md.out;
    EXPECT_TRUE(has(md.out, "| done | 5 |")) << md.out;
    EXPECT_FALSE(has(md.out, "not recorded")) << md.out;
    // Over part of a sweep (a second seed no run has reached), the status table says so.
    auto part = s.run({"report", sweep, "--profile", "ci", "--set", "sweep.seeds=2", "--format", "md"});
    ASSERT_EQ(part.code, 0) << part.out;
    EXPECT_TRUE(has(part.out, "| done | 5 |\n| not recorded | 5 |")) << part.out;
    // Each variant's page has its own default name beside the database: the plain sweep's, the ci
    // profile's and an override's never overwrite each other.
    for (const auto& [flags, name] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{}, "forgetting_vs_scale.html"},
             {{"--profile", "ci"}, "forgetting_vs_scale.ci.html"},
             {{"--profile", "ci", "--set", "method.lr=0.01"}, "forgetting_vs_scale.ci.set-"}}) {
        std::vector<std::string> argv{"report", sweep, "--format", "md"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        auto link = s.run(argv);
        ASSERT_EQ(link.code, 0) << link.out;
        EXPECT_TRUE(has(link.out, "Report: [" + s.path("results/reports/iclr.db/" + name))) << link.out;
    }
    // Another database beside it: its pages go to a folder of its own, as its logs do.
    std::filesystem::copy_file(s.db(), s.path("results/other.db"));
    auto other = s.run({"report", sweep, "--profile", "ci", "--format", "md", "--db", s.path("results/other.db")});
    ASSERT_EQ(other.code, 0) << other.out;
    EXPECT_TRUE(has(other.out, "Report: [" + s.path("results/reports/other.db/forgetting_vs_scale.ci.html")))
        << other.out;
    auto page = s.run({"report", sweep, "--profile", "ci"});
    ASSERT_EQ(page.code, 0) << page.out;
    EXPECT_TRUE(std::filesystem::exists(s.path("results/reports/iclr.db/forgetting_vs_scale.ci.html"))) << page.out;
    EXPECT_FALSE(std::filesystem::exists(s.path("results/reports/iclr.db/forgetting_vs_scale.html"))) << page.out;
    // A plot naming a column its query lacks: the plot's sql, at its line and column.
    std::string text = slurp(sweep);
    text.replace(text.find("y = \"forgetting\""), 16, "y = \"forgeting\"");
    std::string bad = s.write("bad.toml", text);
    auto r = s.run({"report", bad, "--profile", "ci", "--out", s.path("x.html")});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(
        std::regex_search(r.out, std::regex("bad\\.toml:\\d+:\\d+: .*plot 'forgetting of task A vs "
                                            "parameters \\(lr 0\\.01\\)': the query has no column 'forgeting'")))
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.path("x.html")));
    auto planned = s.run({"plan", bad, "--profile", "ci", "--no-construct"}); // before any trial of it runs
    EXPECT_EQ(planned.code, 2) << planned.out;
    EXPECT_TRUE(std::regex_search(planned.out, std::regex("bad\\.toml:\\d+:\\d+: plot 'forgetting of task A vs "
                                                          "parameters \\(lr 0\\.01\\)': the query has no column "
                                                          "'forgeting'")))
        << planned.out;
    // A heatmap without the column its cells are coloured by: refused when the sweep is read.
    std::string heat = slurp(sweep);
    std::string colour = "color = \"accuracy\"\n";
    heat.erase(heat.find(colour), colour.size());
    auto h = s.run({"plan", s.write("heat.toml", heat)});
    EXPECT_EQ(h.code, 2) << h.out;
    EXPECT_TRUE(std::regex_search(h.out, std::regex("heat\\.toml:\\d+:\\d+: .*a heatmap needs color"))) << h.out;
}

// `iclr report A.toml B.toml ...`: a page per sweep run into the database, then an index page
// linking them with every claim's verdict as `iclr verify` computes it; a sweep not run there, one
// that cannot be read and one whose page would overwrite another's are named, and the others go on.
TEST(Report, SeveralSweepsGetAPageEachAndAnIndexLinkingTheirVerdicts) {
    Scratch s;
    auto sweep = [&](const std::string& file, const std::string& name, int lo, int hi) {
        return s.write(file, "[sweep]\nname = \"" + name + "\"\ndescription = \"values " + std::to_string(lo) +
                                 " and " + std::to_string(hi) +
                                 "\"\nseeds = 2\n[method]\nplugin = \"noop\"\n[[arm]]\nname = \"lo\"\n"
                                 "method = { values = " +
                                 std::to_string(lo) + " }\n[[arm]]\nname = \"hi\"\nmethod = { values = " +
                                 std::to_string(hi) + " }\n[[claim]]\nname = \"" + name +
                                 ": fewer values end lower\"\nkind = \"less\"\na = \"lo\"\nb = \"hi\"\n"
                                 "metric = \"value\"\n");
    };
    std::string first = sweep("first.toml", "first", 3, 5), second = sweep("second.toml", "second", 4, 6);
    std::string unrun = sweep("unrun.toml", "unrun", 7, 9), same = sweep("same.toml", "first", 2, 8);
    std::string broken = s.write("broken.toml", "[sweep\nname = 3\n");
    ASSERT_EQ(s.run({"run", first}).code, 0);
    ASSERT_EQ(s.run({"run", second}).code, 0);
    auto r = s.run({"report", first, second, unrun, broken, same});
    EXPECT_EQ(r.code, 2) << r.out;
    std::string dir = s.path("results/reports/iclr.db/");
    EXPECT_TRUE(has(r.out, dir + "first.html: 4 runs, 1 claims")) << r.out;
    EXPECT_TRUE(has(r.out, dir + "second.html: 4 runs, 1 claims")) << r.out;
    EXPECT_TRUE(has(r.out, dir + "index.html: 2 sweep(s) reported")) << r.out;
    EXPECT_TRUE(has(r.out, "iclr: error: " + broken + ":1:7: ")) << r.out;
    EXPECT_TRUE(has(r.out, "iclr: error: " + same + ": its page " + dir + "first.html would overwrite " + first +
                               "'s (the same [sweep] name)"))
        << r.out;
    EXPECT_TRUE(has(r.out, "iclr report: note: 1 sweep(s) passed over, none of whose trials has run in ")) << r.out;
    EXPECT_TRUE(has(r.out, "passed over, which gave an error (above): " + broken + ", " + same)) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir + "unrun.html"));
    std::string index = slurp(dir + "index.html");
    EXPECT_EQ(index.find("<script"), std::string::npos); // nothing to run: it opens anywhere
    EXPECT_TRUE(has(index, "<tfoot><tr><th>all</th><td class=\"num\">8</td><td class=\"num\">2</td>")) << index;
    EXPECT_TRUE(has(index, "<h2>Not reported</h2>")) << index;
    EXPECT_TRUE(has(index, unrun)) << index;
    // Each link names a page beside the index, and each claim's row says what verify says.
    std::smatch link;
    std::vector<std::string> linked;
    for (auto at = index.cbegin(); std::regex_search(at, index.cend(), link, std::regex("<a href=\"([^\"]+)\">"));
         at = link.suffix().first)
        linked.push_back(link[1].str());
    EXPECT_EQ(linked, (std::vector<std::string>{"first.html", "second.html", "first.html", "second.html"}));
    for (const auto& [file, name] :
         std::vector<std::pair<std::string, std::string>>{{first, "first"}, {second, "second"}}) {
        EXPECT_TRUE(std::filesystem::exists(dir + name + ".html"));
        auto v = s.run({"verify", file, "--format", "csv"});
        ASSERT_EQ(v.code, 0) << v.out;
        std::string verdict = s.sql("SELECT verdict FROM verdicts WHERE claim = ?1 ORDER BY id DESC LIMIT 1",
                                    {name + ": fewer values end lower"});
        EXPECT_TRUE(std::regex_search(index, std::regex("<tr><td>" + name +
                                                        ": fewer values end lower</td><td>less</td><td "
                                                        "class=\"num\">2</td>.*<td class=\"verdict [a-z]+\">" +
                                                        verdict + "</td>")))
            << verdict << "\n"
            << index;
    }
    ASSERT_TRUE(std::filesystem::exists(kChromium)) << "Debian's chromium is missing: run `make test-deps`";
    auto dom = s.run_binary(kChromium, chromium(s, {"--dump-dom", "file://" + dir + "index.html"}));
    ASSERT_EQ(dom.code, 0) << dom.out.substr(0, 2000);
    EXPECT_EQ(sections(dom.out, "<tr><td><a href=", "</tr>").size(), 2u) << dom.out.substr(0, 3000);
    // --out names the index; the pages go beside it. Markdown: each sweep's summary in turn.
    auto out = s.run({"report", first, second, "--out", s.path("site/all.html")});
    EXPECT_EQ(out.code, 0) << out.out;
    EXPECT_TRUE(std::filesystem::exists(s.path("site/first.html")) && std::filesystem::exists(s.path("site/all.html")));
    // --out naming a folder (with a trailing '/', or one that exists): the index or the page in it.
    ASSERT_EQ(s.run({"report", first, second, "--out", s.path("folder") + "/"}).code, 0);
    EXPECT_TRUE(std::filesystem::exists(s.path("folder/index.html")) &&
                std::filesystem::exists(s.path("folder/second.html")));
    ASSERT_EQ(s.run({"report", first, "--out", s.path("folder")}).code, 0);
    EXPECT_TRUE(std::filesystem::exists(s.path("folder/first.html")));
    // Over part of a sweep (a third seed no run has reached), the index says so under its name.
    auto part = s.run({"report", first, second, "--set", "sweep.seeds=3", "--out", s.path("site/part.html")});
    EXPECT_EQ(part.code, 0) << part.out;
    EXPECT_TRUE(has(slurp(s.path("site/part.html")), first + " · 4 runs (of 6 trials as written: 2 not recorded yet)"))
        << part.out;
    auto md = s.run({"report", first, unrun, second, "--format", "md"});
    EXPECT_EQ(md.code, 0) << md.out;
    EXPECT_TRUE(has(md.out, "## first\n")) << md.out;
    EXPECT_TRUE(has(md.out, "\n## second\n")) << md.out;
    EXPECT_FALSE(has(md.out, "## unrun")) << md.out;
}
