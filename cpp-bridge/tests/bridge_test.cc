// The cilium-jwt engine through its C++ API: every verdict kind with real keys (generated
// here) and a real key server on 127.0.0.1, errors, concurrency and policy replacement.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cilium_jwt/bridge.h"
#include "test_support.h"

namespace cilium_jwt {
namespace {

using testing::Claims;
using testing::JwksServer;
using testing::TestKey;

constexpr char kIssuer[] = "https://idp.example/";
constexpr char kPath[] = "/api/orders?limit=5";
constexpr char kRealm[] = "http://orders.default.svc:8080/api/orders?limit=5";
constexpr char kRealmError[] = "Bearer realm=\"http://orders.default.svc:8080/api/orders?limit=5\", "
                               "error=\"invalid_token\"";

// Keys are generated once per test process (each test runs in its own process under ctest).
const TestKey& rsaKey() {
  static const TestKey key(TestKey::Type::RS256, "rsa-1");
  return key;
}
const TestKey& ecKey() {
  static const TestKey key(TestKey::Type::ES256, "ec-1");
  return key;
}

rust::Vec<rust::String> strings(std::initializer_list<const char*> items) {
  rust::Vec<rust::String> out;
  for (const char* item : items) {
    out.push_back(rust::String(item));
  }
  return out;
}

std::vector<std::string> strings(const rust::Vec<rust::String>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    out.emplace_back(item);
  }
  return out;
}

class BridgeTest : public ::testing::Test {
protected:
  BridgeTest()
      : server_(testing::jwks({&rsaKey(), &ecKey()})),
        engine_(new_engine(EngineSettings{/*fetch_timeout_ms=*/2000, /*max_wait_ms=*/2000})) {}

  JwtRequirementSpec spec(const std::string& jwks_uri) const {
    JwtRequirementSpec spec;
    spec.provider = Provider::Auth0;
    spec.issuer = kIssuer;
    spec.jwks_uri = jwks_uri;
    spec.audiences = strings({"Thales-accuknox-1st", "Thales-accuknox-2nd"});
    return spec;
  }
  JwtRequirementSpec spec() const { return spec(server_.url()); }

  rust::Box<Requirement> compile(const JwtRequirementSpec& spec) const {
    auto requirement = engine_->requirement(spec);
    return requirement;
  }

  static Claims validClaims() {
    Claims claims;
    claims.iss = kIssuer;
    claims.aud = {"Thales-accuknox-2nd"};
    claims.iat = testing::now();
    claims.exp = testing::now() + 300;
    return claims;
  }

  // Checks a request to kPath with `extra` headers (and :authority/:method/:scheme).
  static Verdict request(const Requirement& requirement,
                         const std::vector<std::pair<std::string, std::string>>& extra,
                         const std::string& path = kPath) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {":method", "GET"}, {":authority", "orders.default.svc:8080"}, {":path", path}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    RequestHeaders views;
    for (const auto& [name, value] : headers) {
      views.add(name, value);
    }
    return check(requirement, path, views);
  }

  static Verdict bearer(const Requirement& requirement, const std::string& token) {
    return request(requirement, {{"authorization", "Bearer " + token}});
  }

  static void expectDenied(const Verdict& verdict, uint16_t status, const std::string& body,
                           bool invalid_token = true) {
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.status, status);
    EXPECT_EQ(std::string(verdict.body), body);
    EXPECT_EQ(std::string(verdict.www_authenticate),
              invalid_token ? std::string(kRealmError) : "Bearer realm=\"" + std::string(kRealm) + "\"");
    EXPECT_TRUE(verdict.remove_headers.empty());
    EXPECT_TRUE(verdict.set_headers.empty());
    EXPECT_EQ(std::string(verdict.reason).rfind(body, 0), 0u) << std::string(verdict.reason);
    EXPECT_EQ(verdict.missing, body == "Jwt is missing");
  }

  JwksServer server_;
  rust::Box<Engine> engine_;
};

TEST_F(BridgeTest, AllowedRemovesTheTokenHeader) {
  auto requirement = compile(spec());
  auto verdict = bearer(*requirement, rsaKey().sign(validClaims().json()));
  EXPECT_TRUE(verdict.allowed) << std::string(verdict.reason);
  EXPECT_EQ(verdict.status, 200);
  EXPECT_EQ(std::string(verdict.body), "");
  EXPECT_EQ(std::string(verdict.www_authenticate), "");
  EXPECT_EQ(std::string(verdict.reason), "");
  EXPECT_FALSE(verdict.missing);
  EXPECT_EQ(strings(verdict.remove_headers), std::vector<std::string>{"authorization"});
  EXPECT_TRUE(verdict.set_headers.empty());
  EXPECT_EQ(localReply(verdict).status, 200);
}

TEST_F(BridgeTest, AllowedWithEcKeyAndQueryParameterStripsIt) {
  auto requirement = compile(spec());
  auto token = ecKey().sign(validClaims().json());
  auto verdict = request(*requirement, {}, "/api/orders?limit=5&access_token=" + token + "&x=%20");
  ASSERT_TRUE(verdict.allowed) << std::string(verdict.reason);
  EXPECT_TRUE(verdict.remove_headers.empty());
  ASSERT_EQ(verdict.set_headers.size(), 1u);
  EXPECT_EQ(std::string(verdict.set_headers[0].name), ":path");
  EXPECT_EQ(std::string(verdict.set_headers[0].value), "/api/orders?limit=5&x=%20");
}

TEST_F(BridgeTest, ForwardKeepsTheToken) {
  auto forwarding = spec();
  forwarding.forward = true;
  auto requirement = compile(forwarding);
  auto verdict = bearer(*requirement, rsaKey().sign(validClaims().json()));
  EXPECT_TRUE(verdict.allowed) << std::string(verdict.reason);
  EXPECT_TRUE(verdict.remove_headers.empty());
}

TEST_F(BridgeTest, CustomHeaderLocation) {
  auto custom = spec();
  custom.from_headers.push_back(JwtHeader{"X-Client-Token", "Token "});
  auto requirement = compile(custom);
  auto token = rsaKey().sign(validClaims().json());
  auto verdict = request(*requirement, {{"x-client-token", "Token " + token}});
  EXPECT_TRUE(verdict.allowed) << std::string(verdict.reason);
  EXPECT_EQ(strings(verdict.remove_headers), std::vector<std::string>{"x-client-token"});
  // The default location is not used once a location is configured.
  expectDenied(bearer(*requirement, token), 401, "Jwt is missing", false);
}

TEST_F(BridgeTest, MissingTokenIs401WithoutError) {
  auto requirement = compile(spec());
  auto verdict = request(*requirement, {});
  expectDenied(verdict, 401, "Jwt is missing", /*invalid_token=*/false);
  auto reply = localReply(verdict);
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body, "Jwt is missing");
  EXPECT_EQ(reply.www_authenticate, "Bearer realm=\"http://orders.default.svc:8080/api/orders?limit=5\"");
  EXPECT_EQ(reply.details, "jwt_authn_access_denied{Jwt_is_missing}");
}

TEST_F(BridgeTest, ExpiredToken) {
  auto requirement = compile(spec());
  auto claims = validClaims();
  claims.exp = testing::now() - 120; // beyond the default 60 s skew
  expectDenied(bearer(*requirement, rsaKey().sign(claims.json())), 401, "Jwt is expired");
}

TEST_F(BridgeTest, ClockSkewIsHonoured) {
  auto lenient = spec();
  lenient.has_clock_skew = true;
  lenient.clock_skew_seconds = 300;
  auto requirement = compile(lenient);
  auto claims = validClaims();
  claims.exp = testing::now() - 120;
  EXPECT_TRUE(bearer(*requirement, rsaKey().sign(claims.json())).allowed);
}

TEST_F(BridgeTest, NotYetValidToken) {
  auto requirement = compile(spec());
  auto claims = validClaims();
  claims.nbf = testing::now() + 600;
  claims.exp = testing::now() + 900;
  expectDenied(bearer(*requirement, rsaKey().sign(claims.json())), 401, "Jwt not yet valid");
}

TEST_F(BridgeTest, WrongIssuer) {
  auto requirement = compile(spec());
  auto claims = validClaims();
  claims.iss = "https://attacker.example/";
  expectDenied(bearer(*requirement, rsaKey().sign(claims.json())), 401, "Jwt issuer is not configured");
}

TEST_F(BridgeTest, WrongAudienceIs403) {
  auto requirement = compile(spec());
  auto claims = validClaims();
  claims.aud = {"some-other-service"};
  auto verdict = bearer(*requirement, rsaKey().sign(claims.json()));
  expectDenied(verdict, 403, "Audiences in Jwt are not allowed");
  EXPECT_EQ(localReply(verdict).status, 403);
  EXPECT_EQ(localReply(verdict).details, "jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}");
}

TEST_F(BridgeTest, BadSignature) {
  auto requirement = compile(spec());
  // Signed by a key that is not in the key set but claims the kid of one that is.
  TestKey impostor(TestKey::Type::RS256, "rsa-1");
  expectDenied(bearer(*requirement, impostor.sign(validClaims().json())), 401, "Jwt verification fails");

  // A valid token whose payload was altered after signing.
  auto token = rsaKey().sign(validClaims().json());
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  auto claims = validClaims();
  claims.aud = {"Thales-accuknox-1st"};
  auto tampered = token.substr(0, first + 1) + testing::base64url(claims.json()) + token.substr(second);
  expectDenied(bearer(*requirement, tampered), 401, "Jwt verification fails");
}

TEST_F(BridgeTest, UnknownKid) {
  auto requirement = compile(spec());
  ASSERT_TRUE(requirement->wait_for_keys(2000));
  TestKey stranger(TestKey::Type::RS256, "rotated-in-later");
  auto started = std::chrono::steady_clock::now();
  auto verdict = bearer(*requirement, stranger.sign(validClaims().json()));
  expectDenied(verdict, 401, "Jwks doesn't have key to match kid or alg from Jwt");
  // The unknown kid caused one bounded refetch (the rotation case), then the denial.
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
}

TEST_F(BridgeTest, KeyRotationIsPickedUpByTheKidRefetch) {
  auto requirement = compile(spec());
  ASSERT_TRUE(requirement->wait_for_keys(2000));
  TestKey next(TestKey::Type::ES256, "ec-2");
  server_.setBody(testing::jwks({&rsaKey(), &next}));
  auto verdict = bearer(*requirement, next.sign(validClaims().json()));
  EXPECT_TRUE(verdict.allowed) << std::string(verdict.reason);
}

TEST_F(BridgeTest, MalformedToken) {
  auto requirement = compile(spec());
  expectDenied(bearer(*requirement, "not-a-jwt"), 401,
               "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  expectDenied(bearer(*requirement, "e30.e30.%%%"), 401, "Jwt header [alg] field is required and must be a string");
}

TEST_F(BridgeTest, JwksServerDown) {
  auto requirement = compile(spec(testing::deadUrl()));
  auto verdict = bearer(*requirement, rsaKey().sign(validClaims().json()));
  expectDenied(verdict, 401, "Jwks remote fetch is failed");
  // The access log reason carries the fetch error; the reply body stays jwt_authn's.
  EXPECT_NE(std::string(verdict.reason).find("127.0.0.1"), std::string::npos) << std::string(verdict.reason);
}

TEST_F(BridgeTest, JwksServerErrorStatus) {
  server_.setStatus(503);
  auto requirement = compile(spec());
  auto verdict = bearer(*requirement, rsaKey().sign(validClaims().json()));
  expectDenied(verdict, 401, "Jwks remote fetch is failed");
  EXPECT_NE(std::string(verdict.reason).find("HTTP status 503"), std::string::npos) << std::string(verdict.reason);
}

TEST_F(BridgeTest, InvalidSpecThrowsNamingTheField) {
  auto expectError = [this](auto change, const std::string& expected) {
    auto bad = spec();
    change(bad);
    try {
      engine_->requirement(bad);
      ADD_FAILURE() << "no error, expected: " << expected;
    } catch (const rust::Error& error) {
      EXPECT_EQ(std::string(error.what()), expected);
    }
  };
  expectError([](JwtRequirementSpec& s) { s.jwks_uri = "jwks.json"; },
              "jwt_requirement.jwks_uri: must be an absolute http(s) URL");
  expectError([](JwtRequirementSpec& s) { s.jwks_uri = "ftp://idp.example/jwks"; },
              "jwt_requirement.jwks_uri: must be an absolute http(s) URL");
  expectError([](JwtRequirementSpec& s) { s.issuer = ""; }, "jwt_requirement.issuer: must not be empty");
  expectError([](JwtRequirementSpec& s) { s.audiences = strings({"a", "a"}); },
              "jwt_requirement.audiences[1]: duplicate audience \"a\"");
  expectError([](JwtRequirementSpec& s) { s.from_headers.push_back(JwtHeader{"x jwt", ""}); },
              "jwt_requirement.from_headers[0].name: \"x jwt\" is not a valid HTTP header name");
  expectError([](JwtRequirementSpec& s) { s.provider = static_cast<Provider>(7); },
              "jwt_requirement.provider: unsupported value 7: must be one of OIDC (0), AUTH0 (1), SPIRE (2)");
  expectError(
      [](JwtRequirementSpec& s) {
        s.has_clock_skew = true;
        s.clock_skew_seconds = 301;
      },
      "jwt_requirement.clock_skew_seconds: must be an integer from 0 to 300");
  expectError(
      [](JwtRequirementSpec& s) {
        s.has_cache_duration = true;
        s.cache_duration_ms = 5000;
      },
      "jwt_requirement.cache_duration: must be between 30s and 24h");
}

TEST_F(BridgeTest, SpireRequiresASpiffeSubject) {
  auto spire = spec();
  spire.provider = Provider::Spire;
  auto requirement = compile(spire);
  EXPECT_TRUE(bearer(*requirement, rsaKey().sign(validClaims().json())).allowed);
  auto claims = validClaims();
  claims.sub = "not-a-spiffe-id";
  expectDenied(bearer(*requirement, rsaKey().sign(claims.json())), 401, "Jwt verification fails");
}

TEST_F(BridgeTest, HostileInputNeverThrows) {
  auto requirement = compile(spec());
  auto token = rsaKey().sign(validClaims().json());
  // Not UTF-8, NUL bytes, empty names: denied (or missing), never an exception or crash.
  std::string binary = "Bearer " + token.substr(0, 20) + "\xff\xfe" + std::string(1, '\0') + token.substr(20);
  std::string non_utf8_path = "/\xc3\x28?access_token=\xff";
  RequestHeaders views;
  views.add("authorization", binary);
  views.add("", "");
  views.add("\xff", "\xff");
  Verdict verdict;
  EXPECT_NO_THROW(verdict = check(*requirement, non_utf8_path, views));
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.status, 401);
  RequestHeaders none;
  EXPECT_NO_THROW(verdict = check(*requirement, "", none));
  EXPECT_EQ(std::string(verdict.body), "Jwt is missing");
}

TEST_F(BridgeTest, IdenticalSpecsShareOneKeySetFetch) {
  auto first = compile(spec());
  auto second = compile(spec());
  auto other_audiences = spec();
  other_audiences.audiences = strings({"another-service"});
  auto third = compile(other_audiences);
  auto token = rsaKey().sign(validClaims().json());
  EXPECT_TRUE(bearer(*first, token).allowed);
  EXPECT_TRUE(bearer(*second, token).allowed);
  auto claims = validClaims();
  claims.aud = {"another-service"};
  EXPECT_TRUE(bearer(*third, rsaKey().sign(claims.json())).allowed);
  // One key set per URL, whatever the number of requirements using it.
  EXPECT_EQ(server_.requests(), 1);
}

TEST_F(BridgeTest, ProcessEngineIsCreatedOnceAndShared) {
  const Engine* seen = nullptr;
  std::vector<std::thread> threads;
  std::mutex mutex;
  bool same = true;
  for (int i = 0; i < 8; i++) {
    threads.emplace_back([&] {
      const Engine* engine = &processEngine();
      std::lock_guard<std::mutex> lock(mutex);
      same = same && (seen == nullptr || seen == engine);
      seen = engine;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_TRUE(same);
  // Requirements of two "policies" share the process engine's key set cache.
  auto a = processEngine().requirement(spec());
  auto b = processEngine().requirement(spec());
  auto token = rsaKey().sign(validClaims().json());
  EXPECT_TRUE(bearer(*a, token).allowed);
  EXPECT_TRUE(bearer(*b, token).allowed);
  EXPECT_EQ(server_.requests(), 1);
}

// Many workers checking at once against one requirement: every verdict is the right one.
TEST_F(BridgeTest, ConcurrentChecks) {
  constexpr int kThreads = 16;
  constexpr int kChecks = 1000;
  auto requirement = compile(spec());
  auto valid = rsaKey().sign(validClaims().json());
  auto ec_valid = ecKey().sign(validClaims().json());
  auto expired_claims = validClaims();
  expired_claims.exp = testing::now() - 3600;
  auto expired = rsaKey().sign(expired_claims.json());
  auto other_claims = validClaims();
  other_claims.aud = {"elsewhere"};
  auto wrong_audience = rsaKey().sign(other_claims.json());

  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kChecks; i++) {
        bool ok = false;
        switch ((i + t) % 5) {
        case 0:
          ok = bearer(*requirement, valid).allowed;
          break;
        case 1:
          ok = bearer(*requirement, ec_valid).allowed;
          break;
        case 2: {
          auto v = bearer(*requirement, expired);
          ok = !v.allowed && v.status == 401 && std::string(v.body) == "Jwt is expired";
          break;
        }
        case 3: {
          auto v = bearer(*requirement, wrong_audience);
          ok = !v.allowed && v.status == 403;
          break;
        }
        case 4: {
          auto v = request(*requirement, {});
          ok = !v.allowed && std::string(v.body) == "Jwt is missing";
          break;
        }
        }
        if (!ok) {
          wrong++;
        }
        done++;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(done.load(), kThreads * kChecks);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(server_.requests(), 1);
}

// Policy updates compile new requirements on one thread and swap them in while workers
// check: no crash, and every verdict is right for the policy the worker checked against.
TEST_F(BridgeTest, PolicyReplacementUnderLoad) {
  JwksServer second_server(testing::jwks({&rsaKey(), &ecKey()}));
  struct Policy {
    rust::Box<Requirement> requirement;
    std::string audience; // the one audience the policy allows
  };
  auto make = [&](const std::string& audience, const std::string& jwks_uri) {
    auto s = spec(jwks_uri);
    s.audiences = strings({audience.c_str()});
    return std::make_shared<const Policy>(Policy{engine_->requirement(s), audience});
  };
  std::mutex mutex;
  std::shared_ptr<const Policy> current = make("a", server_.url());
  auto load = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return current;
  };

  std::map<std::string, std::string> tokens;
  for (const char* audience : {"a", "b"}) {
    auto claims = validClaims();
    claims.aud = {audience};
    tokens[audience] = rsaKey().sign(claims.json());
  }

  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; t++) {
    workers.emplace_back([&] {
      while (!stop) {
        auto policy = load();
        for (const auto& [audience, token] : tokens) {
          auto v = bearer(*policy->requirement, token);
          bool expected = audience == policy->audience;
          if (v.allowed != expected || (!expected && v.status != 403)) {
            wrong++;
          }
          checks++;
        }
      }
    });
  }
  // The updater: alternate between audiences and between two key set URLs, compiling a
  // fresh requirement each time and dropping the old policy while workers may hold it.
  for (int update = 0; update < 200; update++) {
    auto next = make(update % 2 ? "b" : "a", update % 3 ? server_.url() : second_server.url());
    {
      std::lock_guard<std::mutex> lock(mutex);
      current.swap(next);
    }
    next.reset(); // the old policy: destroyed here unless a worker still holds it
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(checks.load(), 100);
}

} // namespace
} // namespace cilium_jwt
