// Opening the results database: what is refused before a byte is written, read-only for any user.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "store/schema.hpp"
#include "store/sql_stats.hpp"
#include "store/store.hpp"

namespace iclr {
namespace fs = std::filesystem;

namespace {

// iclr's mark in the SQLite header (PRAGMA application_id): "iclr" in ASCII.
constexpr int64_t kApplicationId = 0x69636c72;

// A path that exists must be a regular file: a FIFO would hang the open, a device is no database.
void require_regular_file(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw UserError(path + ": not a regular file, so not a results database");
}

// file: URI of a path (percent-encoding what URIs reserve), with query parameters.
std::string sqlite_uri(const std::string& path, const std::string& query) {
    std::string abs = fs::absolute(path).string(), out = "file:";
    for (unsigned char c : abs) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c >= 0x80) {
            out += char(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out + "?" + query;
}

// Byte 18 of the header is 2 for a WAL database.
bool wal_mode_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    unsigned char b = 0;
    bool wal = pread(fd, &b, 1, 18) == 1 && b == 2;
    close(fd);
    return wal;
}

int64_t pragma_int(sqlite3* db, const char* pragma) {
    Statement st(db, std::string("PRAGMA ") + pragma);
    st.step();
    return st.col_int(0);
}

// Refuses a file that is not iclr's (a writer must not touch it; a reader would migrate a copy of it
// into iclr's schema and fail on the first name both use, `table runs already exists`); reads only.
// Returns the schema version it read.
int check_identity(sqlite3* db, const std::string& path, bool writing) {
    const std::string hint = writing ? "; pass --db to write elsewhere" : ", not a results database";
    int64_t version, app, tables;
    try {
        version = pragma_int(db, "user_version");
        app = pragma_int(db, "application_id");
        Statement st(db, "SELECT COUNT(*) FROM sqlite_master");
        st.step();
        tables = st.col_int(0);
    } catch (const HostError& e) {
        throw UserError(path + ": not a results database (" + e.what() + ")");
    }
    if (app != 0 && app != kApplicationId)
        throw UserError(path + ": an SQLite database of another application (application_id " + std::to_string(app) +
                        ")" + hint);
    if (app == 0 && version == 0 && tables > 0)
        throw UserError(path + ": an SQLite database without iclr's schema (it has " + std::to_string(tables) +
                        " schema objects of its own)" + hint);
    require_known_version(path, int(version));
    return int(version);
}

sqlite3* open_or_throw(const std::string& name, int flags, const std::string& shown) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(name.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw HostError(shown + ": cannot open database: " + msg);
    }
    return db;
}

// How a reader names a database file. A WAL database with no -wal and no -shm beside it has nothing
// in flight: read it as immutable (no locks, no -shm to create, which a reader without write access
// to the folder could not, and which another user's reader must not leave behind). Otherwise
// read-only: SQLite then uses the -shm and -wal that exist, read-only if they are not ours.
std::string read_only_uri(const std::string& path) {
    std::error_code ec;
    bool at_rest = wal_mode_file(path) && !fs::exists(path + "-wal", ec) && !fs::exists(path + "-shm", ec);
    return sqlite_uri(path, at_rest ? "immutable=1" : "mode=ro");
}

// A copy of src in memory (SQLite's online backup), for a reader to migrate.
sqlite3* copy_to_memory(sqlite3* src, const std::string& shown) {
    // URI filenames on, as for a file's connection: attach_read_only names files by URI (mode=ro).
    sqlite3* mem = open_or_throw(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, shown);
    sqlite3_backup* b = sqlite3_backup_init(mem, "main", src, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(mem);
    if (b) sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        std::string msg = sqlite3_errmsg(mem);
        sqlite3_close(mem);
        throw HostError(shown + ": cannot read the database to migrate it in memory: " + msg);
    }
    return mem;
}

} // namespace

std::unique_ptr<Store> Store::open_write(const std::string& path) {
    require_regular_file(path);
    std::error_code ec;
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    sqlite3* db = open_or_throw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, path);
    std::unique_ptr<Store> s(new Store(db, path, false)); // not writable_ until it is known to be ours
    sqlite3_busy_handler(db, &Store::on_busy, s.get());
    check_identity(db, path, true);
    s->writable_ = true;
    stats::register_functions(db);
    try {
        exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        s->migrate();
        if (pragma_int(db, "application_id") == 0)
            exec_sql(db, "PRAGMA application_id=" + std::to_string(kApplicationId));
    } catch (const HostError& e) {
        throw HostError(path + ": " + e.what());
    }
    return s;
}

std::unique_ptr<Store> Store::open_empty() {
    const std::string shown = "an empty database in memory";
    std::unique_ptr<Store> s(
        new Store(open_or_throw(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, shown), shown, false));
    s->migrate();
    stats::register_functions(s->db_);
    return s;
}

std::unique_ptr<Store> Store::open_read(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw UserError(path + ": no such database (run a sweep first, or pass --db)");
    require_regular_file(path);
    sqlite3* db = open_or_throw(read_only_uri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
    std::unique_ptr<Store> s(new Store(db, path, false));
    sqlite3_busy_timeout(db, 5000);
    int version = check_identity(db, path, false);
    // An older schema is read through a copy migrated in memory, so every reader sees the
    // current tables and columns (iclr show of a schema-1 database asked for a column schema 3
    // added). The file stays as it is: a reader may not own it, and whoever writes to it next
    // migrates it in place. The copy costs a read of the file, once per command, until then.
    if (version < schema_version()) {
        s.reset(new Store(copy_to_memory(db, path), path, false));
        s->migrate();
    }
    stats::register_functions(s->db_); // stdev, ci95_low, median, spearman, ... in every query
    exec_sql(s->db_, "PRAGMA query_only=1;");
    return s;
}

void Store::attach_read_only(const std::string& name, const std::string& path) {
    auto ident = [](const std::string& n) {
        if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
        for (unsigned char c : n)
            if (!std::isalnum(c) && c != '_') return false;
        return true;
    };
    std::string low;
    for (unsigned char c : name)
        low += char(std::tolower(c));
    if (!ident(name) || low == "main" || low == "temp")
        throw UserError("--attach " + name + "=" + path +
                        ": the name must be an SQL identifier other than main or temp");
    std::error_code ec;
    if (!fs::exists(path, ec)) throw UserError("--attach " + name + "=" + path + ": no such database");
    // Read as open_read reads it (refused if it is not a results database): an older schema through
    // a copy migrated in memory, which is then moved under the name (serialized and deserialized,
    // read-only), so the SQL sees today's tables and columns in both databases.
    auto other = open_read(path);
    const char* file = sqlite3_db_filename(other->db_, "main");
    const bool migrated = !file || !*file; // open_read's copy in memory ("" names no file)
    if (!migrated) {                       // today's schema: the file itself
        other.reset();
        Statement st(db(), "ATTACH DATABASE ?1 AS \"" + name + "\"");
        st.bind(1, read_only_uri(path));
        st.run();
    } else {
        sqlite3_int64 size = 0;
        unsigned char* bytes = sqlite3_serialize(other->db_, "main", &size, 0);
        if (!bytes) throw HostError(path + ": cannot copy its migrated schema to attach it");
        exec_sql(db_, "ATTACH DATABASE ':memory:' AS \"" + name + "\"");
        if (sqlite3_deserialize(db_, name.c_str(), bytes, size, size,
                                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
            exec_sql(db_, "DETACH DATABASE \"" + name + "\"");
            throw HostError(path + ": cannot attach its copy migrated in memory: " + sqlite3_errmsg(db_));
        }
    }
    // (A file attached by a URI not read as one would be open to write; a deserialized copy, whose
    // pager SQLite does not mark read-only, refuses writes by its flag and touches no file.)
    if (!migrated && sqlite3_db_readonly(db_, name.c_str()) != 1) {
        exec_sql(db_, "DETACH DATABASE \"" + name + "\"");
        throw HostError(path + ": could not be attached read-only");
    }
}

void Store::set_lock_wait(std::function<bool(double)> keep_waiting) { keep_waiting_ = std::move(keep_waiting); }

// SQLite's busy handler: wait with backoff (10 ms doubling to 1 s) while another process holds
// the write lock, asking keep_waiting_ how long to go on.
int Store::on_busy(void* self, int attempt) {
    auto* s = static_cast<Store*>(self);
    auto now = std::chrono::steady_clock::now();
    if (attempt == 0) s->busy_since_ = now;
    double waited = std::chrono::duration<double>(now - s->busy_since_).count();
    bool go_on = s->keep_waiting_ ? s->keep_waiting_(waited) : waited < 5.0;
    if (!go_on) return 0;
    int ms = attempt < 7 ? 10 << attempt : 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return 1;
}

} // namespace iclr
