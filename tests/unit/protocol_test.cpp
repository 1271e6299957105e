// The worker protocol: every record kind round-trips through encode/parse; garbage is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "exec/protocol.hpp"

using namespace iclr;
using namespace iclr::protocol;

namespace {

Record round_trip(const Record& r) {
    std::string line = encode(r);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record, one line: " << line;
    auto back = parse_record(std::string_view(line).substr(0, line.size() - 1));
    EXPECT_TRUE(back.has_value()) << line;
    return back.value_or(Record{});
}

Record metric(double value, std::optional<int64_t> task = std::nullopt) {
    Record r;
    r.kind = Record::Kind::Metric;
    r.run = 12;
    r.key = "acc";
    r.step = 300;
    r.task = task;
    r.value = value;
    return r;
}

} // namespace

TEST(Protocol, ReadyRecord) {
    Record r;
    r.kind = Record::Kind::Ready;
    r.pid = 4242;
    r.device = "cpu";
    r.torch_version = "1.13.1";
    r.kernels = "OpenBLAS 0.3.21 Haswell, ATen AVX2";
    EXPECT_EQ(encode(r), "R\t4242\tcpu\t1.13.1\tOpenBLAS 0.3.21 Haswell, ATen AVX2\n");
    Record b = round_trip(r);
    EXPECT_EQ(b.kind, Record::Kind::Ready);
    EXPECT_EQ(b.pid, 4242);
    EXPECT_EQ(b.device, "cpu");
    EXPECT_EQ(b.torch_version, "1.13.1");
    EXPECT_EQ(b.kernels, "OpenBLAS 0.3.21 Haswell, ATen AVX2");
}

TEST(Protocol, MetricRecordKeepsEveryBitAndTheTask) {
    EXPECT_EQ(encode(metric(0.5, 3)), "M\t12\tacc\t300\t3\t0.5\n");
    EXPECT_EQ(encode(metric(0.5)), "M\t12\tacc\t300\t-\t0.5\n");
    Record b = round_trip(metric(0.1 + 0.2, 3));
    EXPECT_EQ(b.kind, Record::Kind::Metric);
    EXPECT_EQ(b.run, 12);
    EXPECT_EQ(b.key, "acc");
    EXPECT_EQ(b.step, 300);
    EXPECT_EQ(b.task, 3);
    EXPECT_EQ(b.value, 0.1 + 0.2); // %.17g round-trips a double exactly
    EXPECT_FALSE(round_trip(metric(1.0)).task.has_value());
}

TEST(Protocol, NonFiniteMetricValuesSurvive) {
    EXPECT_TRUE(std::isnan(round_trip(metric(std::nan(""))).value));
    EXPECT_EQ(round_trip(metric(INFINITY)).value, INFINITY);
    EXPECT_EQ(round_trip(metric(-INFINITY)).value, -INFINITY);
}

TEST(Protocol, AttributeArtifactDoneAndErrorRecords) {
    Record a;
    a.kind = Record::Kind::Attribute;
    a.run = 7;
    a.key = "cache_key";
    a.text = "abc def";
    Record ab = round_trip(a);
    EXPECT_EQ(ab.kind, Record::Kind::Attribute);
    EXPECT_EQ(ab.key, "cache_key");
    EXPECT_EQ(ab.text, "abc def");

    Record f = a;
    f.kind = Record::Kind::Artifact;
    f.key = "weights";
    f.text = "/tmp/w.pt";
    EXPECT_EQ(encode(f), "F\t7\tweights\t/tmp/w.pt\n");
    EXPECT_EQ(round_trip(f).kind, Record::Kind::Artifact);

    Record d;
    d.kind = Record::Kind::Done;
    d.run = 9;
    EXPECT_EQ(encode(d), "D\t9\n");
    EXPECT_EQ(round_trip(d).run, 9);

    Record e;
    e.kind = Record::Kind::Error;
    e.run = 9;
    e.status = RunStatus::Interrupted;
    e.text = "cancelled";
    EXPECT_EQ(encode(e), "E\t9\tinterrupted\t-\tcancelled\n");
    EXPECT_EQ(round_trip(e).status, RunStatus::Interrupted);
    e.status = RunStatus::Failed;
    EXPECT_EQ(round_trip(e).status, RunStatus::Failed);
}

TEST(Protocol, ADivergedTrialCarriesTheStep) {
    Record e;
    e.kind = Record::Kind::Error;
    e.run = 4;
    e.status = RunStatus::Diverged;
    e.step = 120;
    e.text = "train_loss became nan at step 120";
    EXPECT_EQ(encode(e), "E\t4\tdiverged\t120\ttrain_loss became nan at step 120\n");
    Record b = round_trip(e);
    EXPECT_EQ(b.status, RunStatus::Diverged);
    EXPECT_EQ(b.step, 120);
    EXPECT_FALSE(parse_record("E\t4\tdiverged\t-\tno step").has_value());
    EXPECT_FALSE(parse_record("E\t4\tdone\t-\tnot an error status").has_value());
}

TEST(Protocol, TabsAndNewlinesInsideFieldsCannotBreakTheFraming) {
    Record e;
    e.kind = Record::Kind::Error;
    e.run = 1;
    e.text = "line one\nline\ttwo\r";
    EXPECT_EQ(encode(e), "E\t1\tfailed\t-\tline one line two \n");
    Record m = metric(1.0);
    m.key = "a\tb\nc";
    EXPECT_EQ(round_trip(m).key, "a b c");
}

TEST(Protocol, GarbageAndTruncatedLinesAreNotRecords) {
    for (const char* bad : {"", "X\t1", "M", "M\t1\tacc\t3\t-", "M\tone\tacc\t3\t-\t0.5", "M\t1\tacc\t3\t-\t0.5x",
                            "M\t1\tacc\tthree\t-\t0.5", "M\t1\tacc\t3\tt\t0.5", "D", "D\t", "D\t1\textra",
                            "E\t1\tweird\tmsg", "E\t1\tfailed", "R\tpid\tcpu\t1.13\tk", "R\t1\tcpu\t1.13", "R\t1\tcpu",
                            "A\t1\tkey", "F\t1\tname", "hello world"})
        EXPECT_FALSE(parse_record(bad).has_value()) << "accepted: " << bad;
}

TEST(Protocol, CommandsFromTheHost) {
    std::istringstream in(encode_trial("run_id = 1\n") + "noise\n" + encode_trial("") +
                          encode_check("run_id = 2\n[[part]]\n") + encode_quit() + encode_trial("after quit"));
    Command c = read_command(in);
    EXPECT_EQ(c.kind, Command::Kind::Trial);
    EXPECT_EQ(c.payload, "run_id = 1\n");
    c = read_command(in); // the noise line is skipped
    EXPECT_EQ(c.kind, Command::Kind::Trial);
    EXPECT_EQ(c.payload, "");
    c = read_command(in);
    EXPECT_EQ(c.kind, Command::Kind::Check);
    EXPECT_EQ(c.payload, "run_id = 2\n[[part]]\n");
    EXPECT_EQ(read_command(in).kind, Command::Kind::Quit);
}

TEST(Protocol, TruncatedPayloadAndEndOfInputEndTheWorker) {
    std::istringstream truncated("TRIAL 100\nshort");
    EXPECT_EQ(read_command(truncated).kind, Command::Kind::End);
    std::istringstream empty("");
    EXPECT_EQ(read_command(empty).kind, Command::Kind::End);
    std::istringstream bad_size("TRIAL -5\nTRIAL x\n");
    EXPECT_EQ(read_command(bad_size).kind, Command::Kind::End);
}

TEST(Protocol, LineBufferJoinsChunksAndKeepsThePartialLine) {
    LineBuffer b;
    std::vector<std::string> lines;
    auto on = [&](std::string_view l, bool cut) {
        EXPECT_FALSE(cut);
        lines.emplace_back(l);
    };
    auto feed = [&](std::string_view chunk) { b.append(chunk.data(), chunk.size(), on); };
    feed("D\t1\nM\t1\tac");
    EXPECT_EQ(lines, std::vector<std::string>{"D\t1"});
    feed("c\t0\t-\t1\n\n");
    EXPECT_EQ(lines, (std::vector<std::string>{"D\t1", "M\t1\tacc\t0\t-\t1", ""}));
    feed("tail");
    EXPECT_EQ(b.take_rest(), "tail");
    EXPECT_EQ(b.take_rest(), "");
}

// Output without a newline is held up to kMaxLine bytes, then delivered in pieces: memory stays
// bounded whatever a plugin prints, and every byte arrives once, in order.
TEST(Protocol, LineBufferCutsALineLongerThanTheCap) {
    LineBuffer b;
    std::vector<std::pair<size_t, bool>> got;
    std::string all;
    auto on = [&](std::string_view l, bool cut) {
        got.emplace_back(l.size(), cut);
        all += l;
    };
    std::string chunk(1000, 'x');
    size_t fed = 0;
    while (fed < 3 * kMaxLine + 5) {
        size_t n = std::min(chunk.size(), 3 * kMaxLine + 5 - fed);
        b.append(chunk.data(), n, on);
        fed += n;
    }
    b.append("\nend", 4, on);
    ASSERT_EQ(got.size(), 4u);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(got[size_t(i)], std::make_pair(kMaxLine, true));
    EXPECT_EQ(got[3], std::make_pair(size_t(5), false));
    EXPECT_EQ(all.size(), 3 * kMaxLine + 5);
    EXPECT_EQ(b.take_rest(), "end");
}

TEST(Protocol, OnlyALineFramedWithTheWorkersNonceIsARecord) {
    std::string nonce = make_nonce();
    ASSERT_EQ(nonce.size(), 16u);
    EXPECT_NE(nonce, make_nonce());
    Record d;
    d.kind = Record::Kind::Done;
    d.run = 9;
    std::string line = frame(nonce, encode(d));
    line.pop_back(); // the newline, as LineBuffer delivers it
    auto back = parse_framed(nonce, line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Record::Kind::Done);
    EXPECT_EQ(back->run, 9);
    // A well-formed record without the nonce, with another worker's, or with none at all.
    EXPECT_FALSE(parse_framed(nonce, "D\t9").has_value());
    EXPECT_FALSE(parse_framed(nonce, make_nonce() + "\tD\t9").has_value());
    EXPECT_FALSE(parse_framed(nonce, nonce + "D\t9").has_value());
    EXPECT_FALSE(parse_framed("", "\tD\t9").has_value());
}
