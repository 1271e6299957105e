// One self-contained HTML page: the report's tables as HTML, its figures as Vega-Lite specs drawn
// by the inlined Vega builds (no network, no server), a Markdown summary of the same, and the index
// page that links several sweeps' pages.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/build_info.hpp"
#include "common/process.hpp"
#include "common/values.hpp"
#include "report/report.hpp"

namespace iclr::report {
namespace {

std::string esc(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            // C0 controls (terminal escapes from a plugin's log) are shown, not passed on.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(static_cast<unsigned char>(c)));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out;
}

// Text placed inside <script>: only "</script" (any case) would end the element early, and it
// cannot stand outside a string or regex in JS or JSON, where "<\/" means the same.
std::string script_safe(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        out += s[i];
        if (s[i] == '<' && i + 7 < s.size() && s[i + 1] == '/' && (s[i + 2] | 0x20) == 's' &&
            (s[i + 3] | 0x20) == 'c' && (s[i + 4] | 0x20) == 'r' && (s[i + 5] | 0x20) == 'i' &&
            (s[i + 6] | 0x20) == 'p' && (s[i + 7] | 0x20) == 't')
            out += '\\';
    }
    return out;
}

// Each note as a paragraph of the "note" class.
std::string notes_html(const std::vector<std::string>& notes) {
    std::string out;
    for (const auto& n : notes)
        out += "<p class=\"note\">" + esc(n) + ".</p>\n";
    return out;
}

std::string table(const Table& t, const std::string& cls = "") {
    if (t.rows.rows.empty()) return t.note.empty() ? "" : "<p class=\"note\">" + esc(t.note) + "</p>\n";
    std::string out = "<table" + (cls.empty() ? "" : " class=\"" + cls + "\"") + "><thead><tr>";
    for (const auto& c : t.rows.columns)
        out += "<th>" + esc(c) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (size_t r = 0; r < t.rows.rows.size(); ++r) {
        out += "<tr>";
        for (size_t c = 0; c < t.rows.columns.size(); ++c) {
            bool number = !t.rows.is_number.empty() && t.rows.is_number[r][c];
            const std::string& v = t.rows.rows[r][c];
            out += std::string(number ? "<td class=\"num\">" : "<td>") + (t.rows.is_null[r][c] ? "" : esc(v)) + "</td>";
        }
        out += "</tr>\n";
    }
    out += "</tbody></table>\n";
    if (!t.note.empty()) out += "<p class=\"note\">" + esc(t.note) + "</p>\n";
    return out;
}

std::string fmt_num(const std::optional<double>& v) { return v ? four_digits(*v) : "-"; }

std::string claims_table(const std::vector<ClaimResult>& claims) {
    std::string out = "<table id=\"claims\"><thead><tr><th>claim</th><th>kind</th><th>n</th><th>estimate</th>"
                      "<th>95% CI</th><th>verdict</th><th>source</th></tr></thead><tbody>\n";
    for (const auto& c : claims) {
        std::string ci = c.ci_low ? "[" + fmt_num(c.ci_low) + ", " + fmt_num(c.ci_high) + "]" : "-";
        std::string verdict = c.verdict + (c.verdict == "no data" ? " (" + c.reason + ")" : "");
        std::string cls = c.verdict == "held" ? "held" : c.verdict == "not held" ? "notheld" : "other";
        out += "<tr><td>" + esc(c.name) + "</td><td>" + esc(c.kind) + "</td><td class=\"num\">" + std::to_string(c.n) +
               "</td><td class=\"num\">" + fmt_num(c.estimate) + "</td><td class=\"num\">" + esc(ci) +
               "</td><td class=\"verdict " + cls + "\">" + esc(verdict) + "</td><td>" + esc(c.source) + "</td></tr>\n";
    }
    out += "</tbody></table>\n";
    for (const auto& c : claims)
        if (!c.note.empty()) out += "<p class=\"note\">" + esc(c.name + ": " + c.note) + ".</p>\n";
    return out;
}

struct Figures {
    std::string html, specs; // the <figure> elements; a JS array of their specs
    int count = 0;
    void add(const Figure& f) {
        std::string id = "fig" + std::to_string(count++);
        html += "<figure><div class=\"plot\" id=\"" + id + "\" data-title=\"" + esc(f.title) + "\" data-points=\"" +
                std::to_string(f.points) + "\"></div><figcaption>" + esc(f.title) +
                (f.caption.empty() ? "" : " — " + esc(f.caption)) + "</figcaption></figure>\n";
        specs += (specs.empty() ? "" : ",\n") + std::string("[\"") + id + "\", " + f.spec_json + "]";
    }
};

const char* kStyle =
    R"(body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.verdict.held{background:#d8f0d8}td.verdict.notheld{background:#f6d5d5}td.verdict.other{background:#f4f0d8}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:520px}
pre{background:#f7f7f7;padding:.5em;max-height:14em;overflow:auto;font-size:12px}.note{color:#666;font-size:12px}
#render-status{color:#888;font-size:12px})";

// Draws every figure, then records how many rendered (the browser test reads #render-status).
const char* kDraw = R"(
(async () => {
  let ok = 0, failed = [];
  for (const [id, spec] of FIGURES) {
    try {
      await vegaEmbed('#' + id, spec, {actions: false, renderer: 'svg', mode: 'vega-lite'});
      ok++;
    } catch (e) {
      failed.push(id + ': ' + e);
      document.getElementById(id).textContent = 'could not draw: ' + e;
    }
  }
  const s = document.getElementById('render-status');
  s.textContent = ok + ' of ' + FIGURES.length + ' figures drawn' + (failed.length ? '; ' + failed.join('; ') : '');
  s.dataset.done = 'true';
  s.dataset.drawn = ok;
})();
)";

// RFC 4648 base64, for a data: URI.
std::string base64(const std::string& in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = uint32_t(uint8_t(in[i])) << 16;
        if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
        if (i + 2 < in.size()) n |= uint32_t(uint8_t(in[i + 2]));
        out += k[(n >> 18) & 63];
        out += k[(n >> 12) & 63];
        out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? k[n & 63] : '=';
    }
    return out;
}

// The runs' flat table as a link that saves it (the page is often all a reader is sent), or, when
// too large to embed, the command that writes it.
std::string runs_download(const Report& r) {
    std::string command = "<code>" + esc(r.runs_csv_command) + "</code>";
    if (r.runs_csv.empty())
        return "<p class=\"note\">The runs as one table (" + std::to_string(r.runs_csv_bytes / 1024) +
               " KiB of CSV, too large to embed): " + command + "</p>\n";
    return "<p><a id=\"runs-csv\" download=\"" + esc(r.sweep_name) +
           ".csv\" href=\"data:text/csv;charset=utf-8;base64," + base64(r.runs_csv) +
           "\">Download the runs as CSV</a> <span class=\"note\">(a row per run: what differs between them and "
           "their final metrics, as " +
           command + " writes it)</span></p>\n";
}

// A file name as a relative URL: bytes outside RFC 3986's unreserved set percent-encoded.
std::string href(const std::string& file) {
    std::string out;
    for (unsigned char c : file) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += char(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", unsigned(c));
            out += buf;
        }
    }
    return out;
}

// The index's first table: a row per sweep, linking its page, its verdicts counted; then the sums.
std::string sweeps_table(const std::vector<IndexEntry>& entries) {
    const char* kVerdicts[] = {"held", "not held", "inconclusive", "no data"};
    std::string out = "<table id=\"sweeps\"><thead><tr><th>sweep</th><th>runs</th><th>claims</th>";
    for (const char* v : kVerdicts)
        out += std::string("<th>") + v + "</th>";
    out += "</tr></thead><tbody>\n";
    int64_t sums[6] = {0, 0, 0, 0, 0, 0}; // runs, claims, then each verdict
    auto cell = [](int64_t n) { return "<td class=\"num\">" + std::to_string(n) + "</td>"; };
    for (const auto& e : entries) {
        int64_t counts[6] = {e.runs, int64_t(e.claims.size()), 0, 0, 0, 0};
        for (size_t v = 0; v < 4; ++v)
            counts[v + 2] = std::count_if(e.claims.begin(), e.claims.end(),
                                          [&](const ClaimResult& c) { return c.verdict == kVerdicts[v]; });
        out += "<tr><td><a href=\"" + esc(href(e.page)) + "\">" + esc(e.sweep_name) + "</a></td>";
        for (size_t i = 0; i < 6; ++i) {
            out += cell(counts[i]);
            sums[i] += counts[i];
        }
        out += "</tr>\n";
    }
    out += "</tbody><tfoot><tr><th>all</th>";
    for (int64_t n : sums)
        out += cell(n);
    return out + "</tr></tfoot></table>\n";
}

} // namespace

std::string render_index(const Index& x) {
    std::string title = std::to_string(x.entries.size()) + " sweep" + (x.entries.size() == 1 ? "" : "s");
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + esc(title) +
                      " — iclr report</title>\n<style>" + kStyle +
                      "</style>\n</head><body>\n<h1>iclr report: " + esc(title) + "</h1>\n";
    out += "<p class=\"note\">database " + esc(x.db_path) +
           (x.flags.empty() ? "" : " (" + esc(x.flags.substr(1)) + ")") + " · generated " + esc(x.generated_at) +
           " by <code>iclr report</code> of iclr " + esc(iclr_build()) +
           " (verdicts computed now, by it) · each sweep's page has its figures, provenance and failures</p>\n";
    out += sweeps_table(x.entries);
    for (const auto& e : x.entries) {
        out += "<h2><a href=\"" + esc(href(e.page)) + "\">" + esc(e.sweep_name) + "</a></h2>\n";
        if (!e.description.empty()) out += "<p>" + esc(e.description) + "</p>\n";
        out += "<p class=\"note\">" + esc(e.sweep_file) + " · " + std::to_string(e.runs) + " runs" +
               (e.unrecorded ? " (of " + std::to_string(e.planned) +
                                   " trials as written: " + std::to_string(e.unrecorded) + " not recorded yet)"
                             : "") +
               "</p>\n";
        out += e.claims.empty() ? "<p class=\"note\">The sweep states no [[claim]].</p>\n"
                                : claims_table(e.claims) + notes_html(e.claims_notes);
    }
    if (!x.passed_over.empty()) out += "<h2>Not reported</h2>\n" + notes_html(x.passed_over);
    return out + "</body></html>\n";
}

std::string render_html(const Report& r, const Scripts& js) {
    Figures figs; // claim figures first, then the others; one list of specs in page order
    for (const auto& c : r.claims)
        if (c.figure) figs.add(*c.figure);
    std::string claims_figs = figs.html;
    figs.html.clear();
    for (const auto& f : r.figures)
        figs.add(f);
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + esc(r.sweep_name) +
                      " — iclr report</title>\n<style>" + kStyle + "</style>\n";
    out += "<script>" + script_safe(js.vega) + "</script>\n<script>" + script_safe(js.vega_lite) +
           "</script>\n<script>" + script_safe(js.vega_embed) + "</script>\n</head><body>\n";
    out += "<h1>" + esc(r.sweep_name) + "</h1>\n<p>" + esc(r.description) + "</p>\n";
    out += "<p class=\"note\">" + esc(r.sweep_file) + (r.flags.empty() ? "" : " (" + esc(r.flags.substr(1)) + ")") +
           " · database " + esc(r.db_path) + " · " + std::to_string(r.runs) + " runs · generated " +
           esc(r.generated_at) + " by <code>iclr report</code> of iclr " + esc(iclr_build()) +
           " (verdicts computed now, by it)</p>\n";
    out += "<h2>Runs</h2>\n" + table(r.statuses) + runs_download(r) + table(r.provenance, "provenance");
    out += "<h2>Claims</h2>\n";
    out += r.claims.empty() ? "<p class=\"note\">The sweep states no [[claim]].</p>\n"
                            : claims_table(r.claims) + notes_html(r.claims_notes) + claims_figs;
    out += std::string("<h2>Figures</h2>\n") +
           (r.default_figures ? "<p class=\"note\">The sweep declares no [[plot]]: learning curves and final "
                                "metrics by swept parameter.</p>\n"
                              : "") +
           figs.html;
    for (const auto& q : r.queries)
        out += "<h2>" + esc(q.title) + "</h2>\n" + table(q);
    out += "<h2>Failures</h2>\n" + table(r.failures, "failures");
    out += "<p id=\"render-status\" data-done=\"false\">drawing…</p>\n";
    out += "<script>\nconst FIGURES = [\n" + script_safe(figs.specs) + "\n];\n" + kDraw + "</script>\n</body></html>\n";
    return out;
}

std::string render_markdown(const Report& r, const std::string& html_link) {
    auto cell = [](std::string s) {
        std::string out;
        for (char c : s)
            out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
        return out;
    };
    auto md = [&](const Table& t) {
        if (t.rows.rows.empty()) return t.note.empty() ? std::string() : t.note + "\n\n";
        std::string out = "|";
        for (const auto& c : t.rows.columns)
            out += " " + cell(c) + " |";
        out += "\n|";
        for (size_t c = 0; c < t.rows.columns.size(); ++c)
            out += " --- |";
        out += "\n";
        for (size_t i = 0; i < t.rows.rows.size(); ++i) {
            out += "|";
            for (size_t c = 0; c < t.rows.columns.size(); ++c)
                out += " " + (t.rows.is_null[i][c] ? std::string() : cell(t.rows.rows[i][c])) + " |";
            out += "\n";
        }
        return out + "\n" + (t.note.empty() ? "" : t.note + "\n\n");
    };
    std::string out = "## " + r.sweep_name + "\n\n" + (r.description.empty() ? "" : r.description + "\n\n");
    out += "Report: [" + html_link + "](" + html_link + ") (`iclr report " + shell_word(r.sweep_file) + r.flags +
           "`), " + std::to_string(r.runs) + " runs.\n\n";
    out += md(r.statuses);
    if (!r.claims.empty()) {
        out += "| claim | n | estimate | 95% CI | verdict |\n| --- | --- | --- | --- | --- |\n";
        for (const auto& c : r.claims)
            out += "| " + cell(c.name) + " | " + std::to_string(c.n) + " | " + fmt_num(c.estimate) + " | " +
                   (c.ci_low ? "[" + fmt_num(c.ci_low) + ", " + fmt_num(c.ci_high) + "]" : "-") + " | " +
                   cell(c.verdict) + " |\n";
        out += "\n";
        for (const auto& c : r.claims)
            if (!c.note.empty()) out += "Note, " + c.name + ": " + c.note + ".\n\n";
        for (const auto& note : r.claims_notes)
            out += "Note: " + note + ".\n\n";
    }
    if (!r.figures.empty()) {
        out += "Figures in the report:";
        for (size_t i = 0; i < r.figures.size(); ++i)
            out += (i ? "; " : " ") + r.figures[i].title;
        out += ".\n\n";
    }
    for (const auto& q : r.queries)
        out += "### " + q.title + "\n\n" + md(q);
    if (!r.failures.rows.rows.empty()) out += "### Failures\n\n" + md(r.failures);
    return out;
}

} // namespace iclr::report
