#pragma once

// Test support for the bridge tests: signing keys generated at test time (OpenSSL's
// libcrypto, which also signs the tokens, independently of the Rust verifier), JSON Web
// Key Sets, tokens, and a real HTTP key server on 127.0.0.1.
//
// Only the EVP/RSA/EC/BN calls that OpenSSL 3 and BoringSSL share are used, so the same
// helpers can serve cilium-envoy's tests (which link BoringSSL).

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cilium_jwt {
namespace testing {

// base64url without padding (RFC 7515 §2).
std::string base64url(std::string_view data);

// A JSON string literal (quotes and escapes included).
std::string jsonString(std::string_view text);

// A signing key pair, generated on construction.
class TestKey {
public:
  enum class Type { RS256, ES256 };

  TestKey(Type type, std::string kid);
  ~TestKey();
  TestKey(TestKey&&) noexcept;
  TestKey& operator=(TestKey&&) noexcept;
  TestKey(const TestKey&) = delete;
  TestKey& operator=(const TestKey&) = delete;

  const std::string& kid() const { return kid_; }
  const char* alg() const { return type_ == Type::RS256 ? "RS256" : "ES256"; }

  // The public key as a JWK object (with kid, alg, use).
  std::string jwk() const;

  // A compact JWS over `payload_json` with header {"alg", "typ": "JWT", "kid": kid_header}
  // (no kid when `kid_header` is empty).
  std::string sign(std::string_view payload_json, std::string_view kid_header) const;
  std::string sign(std::string_view payload_json) const { return sign(payload_json, kid_); }

private:
  Type type_;
  std::string kid_;
  void* pkey_; // EVP_PKEY*
};

// A JWKS document with the public keys of `keys`.
std::string jwks(const std::vector<const TestKey*>& keys);

// Claims of a test token. Times are absolute Unix seconds; 0 omits the claim.
struct Claims {
  std::string iss;
  std::vector<std::string> aud;
  std::string sub = "spiffe://example.org/ns/default/sa/client";
  int64_t exp = 0;
  int64_t nbf = 0;
  int64_t iat = 0;

  std::string json() const;
};

inline int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

// A minimal HTTP/1.1 server on 127.0.0.1 (ephemeral port) serving a JWKS document at
// /jwks (404 elsewhere), one connection at a time, until destroyed.
class JwksServer {
public:
  explicit JwksServer(std::string body);
  ~JwksServer();
  JwksServer(const JwksServer&) = delete;
  JwksServer& operator=(const JwksServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;

  // Replaces the document (key rotation) / the status code served for /jwks.
  void setBody(std::string body);
  void setStatus(int status);

  // Number of requests for /jwks answered so far.
  int requests() const { return requests_.load(); }

private:
  void serve();
  void answer(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string body_;
  int status_ = 200;
  std::thread thread_;
};

// A URL on 127.0.0.1 where nothing listens (a port that was just free).
std::string deadUrl();

} // namespace testing
} // namespace cilium_jwt
