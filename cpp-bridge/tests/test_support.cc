#include "test_support.h"

// Keep OpenSSL 3's deprecation attributes off the RSA/EC accessors that BoringSSL shares.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <utility>

namespace cilium_jwt {
namespace testing {

namespace {

EVP_PKEY* asKey(void* p) { return static_cast<EVP_PKEY*>(p); }

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("test key: ") + what); }

std::string bignum(const BIGNUM* n, size_t width = 0) {
  size_t len = BN_num_bytes(n);
  size_t size = width > len ? width : len;
  std::string out(size, '\0');
  BN_bn2bin(n, reinterpret_cast<uint8_t*>(out.data()) + (size - len));
  return out;
}

EVP_PKEY* generate(TestKey::Type type) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(type == TestKey::Type::RS256 ? EVP_PKEY_RSA : EVP_PKEY_EC, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 &&
            (type == TestKey::Type::RS256 ? EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048)
                                          : EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1)) == 1 &&
            EVP_PKEY_keygen(ctx, &pkey) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    EVP_PKEY_free(pkey);
    fail("key generation failed");
  }
  return pkey;
}

} // namespace

std::string base64url(std::string_view data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63]};
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63]};
  }
  return out;
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof(escape), "\\u%04x", c);
        out += escape;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

TestKey::TestKey(Type type, std::string kid) : type_(type), kid_(std::move(kid)), pkey_(generate(type)) {}

TestKey::~TestKey() { EVP_PKEY_free(asKey(pkey_)); }

TestKey::TestKey(TestKey&& other) noexcept
    : type_(other.type_), kid_(std::move(other.kid_)), pkey_(std::exchange(other.pkey_, nullptr)) {}

TestKey& TestKey::operator=(TestKey&& other) noexcept {
  std::swap(type_, other.type_);
  std::swap(kid_, other.kid_);
  std::swap(pkey_, other.pkey_);
  return *this;
}

std::string TestKey::jwk() const {
  std::string out = "{\"kid\":" + jsonString(kid_) + ",\"alg\":\"" + alg() + "\",\"use\":\"sig\",";
  if (type_ == Type::RS256) {
    const RSA* rsa = EVP_PKEY_get0_RSA(asKey(pkey_));
    const BIGNUM *n = nullptr, *e = nullptr;
    RSA_get0_key(rsa, &n, &e, nullptr);
    return out + "\"kty\":\"RSA\",\"n\":\"" + base64url(bignum(n)) + "\",\"e\":\"" + base64url(bignum(e)) + "\"}";
  }
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(asKey(pkey_));
  BIGNUM* x = BN_new();
  BIGNUM* y = BN_new();
  if (x == nullptr || y == nullptr ||
      EC_POINT_get_affine_coordinates_GFp(EC_KEY_get0_group(ec), EC_KEY_get0_public_key(ec), x, y, nullptr) != 1) {
    BN_free(x);
    BN_free(y);
    fail("cannot read the EC public key");
  }
  out += "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + base64url(bignum(x, 32)) + "\",\"y\":\"" +
         base64url(bignum(y, 32)) + "\"}";
  BN_free(x);
  BN_free(y);
  return out;
}

std::string TestKey::sign(std::string_view payload_json, std::string_view kid_header) const {
  std::string header = std::string("{\"alg\":\"") + alg() + "\",\"typ\":\"JWT\"";
  if (!kid_header.empty()) {
    header += ",\"kid\":" + jsonString(kid_header);
  }
  header += "}";
  std::string input = base64url(header) + "." + base64url(payload_json);

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t length = 0;
  if (md == nullptr || EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, asKey(pkey_)) != 1 ||
      EVP_DigestSign(md, nullptr, &length, reinterpret_cast<const uint8_t*>(input.data()), input.size()) != 1) {
    EVP_MD_CTX_free(md);
    fail("cannot start signing");
  }
  std::string signature(length, '\0');
  bool ok = EVP_DigestSign(md, reinterpret_cast<uint8_t*>(signature.data()), &length,
                           reinterpret_cast<const uint8_t*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    fail("signing failed");
  }
  signature.resize(length);
  if (type_ == Type::ES256) {
    // JWS wants r || s (RFC 7518 §3.4), OpenSSL gives DER.
    const uint8_t* der = reinterpret_cast<const uint8_t*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    if (sig == nullptr) {
      fail("cannot decode the ECDSA signature");
    }
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    signature = bignum(r, 32) + bignum(s, 32);
    ECDSA_SIG_free(sig);
  }
  return input + "." + base64url(signature);
}

std::string jwks(const std::vector<const TestKey*>& keys) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); i++) {
    out += (i ? "," : "") + keys[i]->jwk();
  }
  return out + "]}";
}

std::string Claims::json() const {
  std::string out = "{";
  auto field = [&out](const std::string& name, const std::string& value) {
    out += (out.size() > 1 ? "," : "") + jsonString(name) + ":" + value;
  };
  if (!iss.empty()) {
    field("iss", jsonString(iss));
  }
  if (aud.size() == 1) {
    field("aud", jsonString(aud[0]));
  } else if (!aud.empty()) {
    std::string list = "[";
    for (size_t i = 0; i < aud.size(); i++) {
      list += (i ? "," : "") + jsonString(aud[i]);
    }
    field("aud", list + "]");
  }
  if (!sub.empty()) {
    field("sub", jsonString(sub));
  }
  for (auto [name, value] : {std::pair{"exp", exp}, {"nbf", nbf}, {"iat", iat}}) {
    if (value != 0) {
      field(name, std::to_string(value));
    }
  }
  return out + "}";
}

JwksServer::JwksServer(std::string body) : body_(std::move(body)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
    }
    throw std::runtime_error("JwksServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

JwksServer::~JwksServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string JwksServer::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/jwks"; }

void JwksServer::setBody(std::string body) {
  std::lock_guard<std::mutex> lock(mutex_);
  body_ = std::move(body);
}

void JwksServer::setStatus(int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = status;
}

void JwksServer::serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      answer(fd);
      ::close(fd);
    }
  }
}

void JwksServer::answer(int fd) {
  // Read the request head (bounded in size and time), then answer and close.
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 2000) <= 0) {
      return;
    }
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      return;
    }
    request.append(buffer, static_cast<size_t>(n));
  }
  bool jwks = request.rfind("GET /jwks ", 0) == 0;
  std::string body;
  int status = 404;
  if (jwks) {
    std::lock_guard<std::mutex> lock(mutex_);
    body = body_;
    status = status_;
    requests_++;
  }
  std::string response = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

std::string deadUrl() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("deadUrl: cannot bind");
  }
  ::close(fd); // nothing listens there any more: connections are refused
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/jwks";
}

} // namespace testing
} // namespace cilium_jwt
