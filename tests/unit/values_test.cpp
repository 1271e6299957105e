// Values, TOML literals, JSON, SHA-256 (FIPS 180-4 test vectors).
#include <gtest/gtest.h>

#include "common/file_hash.hpp"
#include "common/values.hpp"

using namespace iclr;

TEST(Values, LiteralsRoundTrip) {
    for (const char* lit : {"0.01", "1.0", "-3", "true", "\"cls\"", "[[0, 1], [2, 3]]", "1e-08", "[]"}) {
        auto v = value_from_literal(lit);
        ASSERT_TRUE(v) << lit;
        auto again = value_from_literal(value_to_toml(*v));
        ASSERT_TRUE(again) << value_to_toml(*v);
        EXPECT_TRUE(*v == *again) << lit << " -> " << value_to_toml(*v);
    }
    EXPECT_EQ(value_to_toml(Value::of_float(0.1)), "0.1");
    EXPECT_EQ(value_to_toml(Value::of_float(2)), "2.0");
    EXPECT_FALSE(value_from_literal("[1, "));
}

TEST(Values, JsonEscapes) {
    EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_EQ(value_to_json(Value::of_list({Value::of_int(1), Value::of_string("x")})), "[1,\"x\"]");
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string million(1000000, 'a');
    EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
