// A command line CLI11 refused, said in one line as every other error is ("iclr: error: ..."), with
// the nearest option or command for a typo, instead of CLI11's two lines.
#include "cli/parse_error.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "common/nearest_name.hpp"
#include "common/number_text.hpp"

namespace iclr {
namespace {

// The subcommand the line reached ("iclr cache prune"), and its app: the deepest one parsed.
const CLI::App* reached(const CLI::App& app, std::string& path) {
    path = "iclr";
    const CLI::App* at = &app;
    for (auto subs = at->get_subcommands(); !subs.empty(); subs = at->get_subcommands()) {
        at = subs.front();
        path += " " + at->get_name();
    }
    return at;
}

// Its options as typed ("--jobs", "-j" left out where a long name exists) and its subcommands.
std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::Option* o : app.get_options()) {
        for (const std::string& l : o->get_lnames())
            names.push_back("--" + l);
        if (o->get_lnames().empty())
            for (const std::string& s : o->get_snames())
                names.push_back("-" + s);
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
    return names;
}

// What was left over: an option it does not have, or an argument too many.
std::string extras_message(const CLI::App& at, const std::string& path, const std::vector<std::string>& extras) {
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-') {
        std::string name = first.substr(0, first.find('='));
        std::vector<std::string> names = option_names(at), longer; // --older: --older-than
        for (const std::string& n : names)
            if (n.size() > name.size() && n.rfind(name, 0) == 0) longer.push_back(n);
        std::string hint = longer.size() == 1 ? " (did you mean '" + longer.front() + "'?)"
                                              : did_you_mean_or_all(name, names, "its options");
        return fmt::format("{} has no option '{}'{}", path, name, hint);
    }
    return fmt::format("{}: unexpected argument '{}' ({} --help says what it takes)", path, first, path);
}

// CLI11's words for a missing value or argument, in the tool's: "--format: 1 required TEXT missing"
// is an option given without its value, "sweeps is required" a command given nothing to work on.
std::string missing_message(const CLI::ParseError& e, const std::string& path) {
    const std::string what = e.what();
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.find(" required ") != std::string::npos &&
        what.find(" missing") != std::string::npos && what.find(':') != std::string::npos)
        return fmt::format("{}: {} needs a value ({} --help)", path, what.substr(0, what.find(':')), path);
    if (dynamic_cast<const CLI::RequiredError*>(&e) && what.size() > 12 &&
        what.compare(what.size() - 12, 12, " is required") == 0 && what.find(' ') == what.size() - 12)
        return fmt::format("{}: no {} given ({} --help)", path, what.substr(0, what.size() - 12), path);
    return "";
}

} // namespace

int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    if (e.get_exit_code() == 0) return app.exit(e); // --help, --version
    std::string path;
    const CLI::App* at = reached(app, path);
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->get_name().rfind("__", 0) != 0) commands.push_back(sub->get_name());
    std::string message;
    if (at == &app && argc < 2) {
        std::fputs(app.help().c_str(), stderr); // `iclr` alone: what it can do
        return 2;
    } else if (at == &app && argv[1][0] != '-') {
        message = fmt::format("no command '{}'{}", argv[1], did_you_mean_or_all(argv[1], commands, "the commands"));
    } else if (auto extras = at->remaining(); !extras.empty()) {
        message = extras_message(*at, path, extras);
    } else if (message = missing_message(e, path); message.empty()) {
        std::string what = e.what(); // a did-you-mean in parentheses is the hint; else where to look
        message =
            fmt::format("{}: {}", path, what) + (!what.empty() && what.back() == ')' ? "" : " (" + path + " --help)");
    }
    std::fflush(stdout);
    std::fprintf(stderr, "iclr: error: %s\n", message.c_str());
    return 2;
}

CLI::Validator whole_number(int64_t lo, int64_t hi, const std::string& word) {
    std::string wanted =
        (word.empty() ? "" : word + " or ") + (hi == INT64_MAX ? fmt::format("a whole number of {} or more", lo)
                                                               : fmt::format("a whole number from {} to {}", lo, hi));
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            auto v = number_of<int64_t>(text);
            bool ok = (!word.empty() && text == word) || (v && *v >= lo && *v <= hi);
            return ok ? "" : fmt::format("'{}' is not {}", text, wanted);
        },
        fmt::format("{}INT in [{} - {}]", word.empty() ? "" : word + " or ", lo, hi));
}

CLI::Validator non_negative() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            auto v = number_of<double>(text);
            bool ok = v && std::isfinite(*v) && *v >= 0;
            return ok ? "" : fmt::format("'{}' is not a number of 0 or more", text);
        },
        "NUMBER >= 0");
}

CLI::Validator one_of(const std::vector<std::string>& names) {
    return CLI::Validator(
        [names](std::string& text) -> std::string {
            for (const std::string& n : names)
                if (text == n) return "";
            std::string near = did_you_mean(text, names);
            return fmt::format("'{}' is not one of {}{}", text, names_list(names), near);
        },
        "{" + names_list(names) + "}");
}

} // namespace iclr
