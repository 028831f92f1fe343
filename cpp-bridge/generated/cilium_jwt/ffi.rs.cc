#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#if __cplusplus >= 202002L
#include <ranges>
#endif

#ifdef __GNUC__
#pragma GCC diagnostic ignored "-Wmissing-declarations"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wdollar-in-identifier-extension"
#endif // __clang__
#endif // __GNUC__

namespace rust {
inline namespace cxxbridge1 {
// #include "rust/cxx.h"

#ifndef CXXBRIDGE1_PANIC
#define CXXBRIDGE1_PANIC
template <typename Exception>
void panic [[noreturn]] (const char *msg);
#endif // CXXBRIDGE1_PANIC

struct unsafe_bitcopy_t;

namespace {
template <typename T>
class impl;
} // namespace

template <typename T>
::std::size_t size_of();
template <typename T>
::std::size_t align_of();

#ifndef CXXBRIDGE1_RUST_STRING
#define CXXBRIDGE1_RUST_STRING
class String final {
public:
  String() noexcept;
  String(const String &) noexcept;
  String(String &&) noexcept;
  ~String() noexcept;

  String(const std::string &);
  String(const char *);
  String(const char *, std::size_t);
  String(const char16_t *);
  String(const char16_t *, std::size_t);
#ifdef __cpp_char8_t
  String(const char8_t *s);
  String(const char8_t *s, std::size_t len);
#endif

  static String lossy(const std::string &) noexcept;
  static String lossy(const char *) noexcept;
  static String lossy(const char *, std::size_t) noexcept;
  static String lossy(const char16_t *) noexcept;
  static String lossy(const char16_t *, std::size_t) noexcept;

  String &operator=(const String &) & noexcept;
  String &operator=(String &&) & noexcept;

  explicit operator std::string() const;

  const char *data() const noexcept;
  char *data() noexcept;

  std::size_t size() const noexcept;
  std::size_t length() const noexcept;
  bool empty() const noexcept;

  const char *c_str() noexcept;

  std::size_t capacity() const noexcept;
  void reserve(size_t new_cap) noexcept;

  using iterator = char *;
  iterator begin() noexcept;
  iterator end() noexcept;

  using const_iterator = const char *;
  const_iterator begin() const noexcept;
  const_iterator end() const noexcept;
  const_iterator cbegin() const noexcept;
  const_iterator cend() const noexcept;

  bool operator==(const String &) const noexcept;
  bool operator!=(const String &) const noexcept;
  bool operator<(const String &) const noexcept;
  bool operator<=(const String &) const noexcept;
  bool operator>(const String &) const noexcept;
  bool operator>=(const String &) const noexcept;

  void swap(String &) noexcept;

  String(unsafe_bitcopy_t, const String &) noexcept;

private:
  struct lossy_t;
  String(lossy_t, const char *, std::size_t) noexcept;
  String(lossy_t, const char16_t *, std::size_t) noexcept;
  friend void swap(String &lhs, String &rhs) noexcept { lhs.swap(rhs); }

  std::array<std::uintptr_t, 3> repr;
};
#endif // CXXBRIDGE1_RUST_STRING

#ifndef CXXBRIDGE1_RUST_SLICE
#define CXXBRIDGE1_RUST_SLICE
namespace detail {
template <bool>
struct copy_assignable_if {};

template <>
struct copy_assignable_if<false> {
  copy_assignable_if() noexcept = default;
  copy_assignable_if(const copy_assignable_if &) noexcept = default;
  copy_assignable_if &operator=(const copy_assignable_if &) & noexcept = delete;
  copy_assignable_if &operator=(copy_assignable_if &&) & noexcept = default;
};
} // namespace detail

template <typename T>
class Slice final
    : private detail::copy_assignable_if<std::is_const<T>::value> {
public:
  using value_type = T;

  Slice() noexcept;
  Slice(T *, std::size_t count) noexcept;

  template <typename C>
  explicit Slice(C &c) : Slice(c.data(), c.size()) {}

  Slice &operator=(const Slice<T> &) & noexcept = default;
  Slice &operator=(Slice<T> &&) & noexcept = default;

  T *data() const noexcept;
  std::size_t size() const noexcept;
  std::size_t length() const noexcept;
  bool empty() const noexcept;

  T &operator[](std::size_t n) const noexcept;
  T &at(std::size_t n) const;
  T &front() const noexcept;
  T &back() const noexcept;

  Slice(const Slice<T> &) noexcept = default;
  ~Slice() noexcept = default;

  class iterator;
  iterator begin() const noexcept;
  iterator end() const noexcept;

  void swap(Slice &) noexcept;

private:
  class uninit;
  Slice(uninit) noexcept;
  friend impl<Slice>;
  friend void sliceInit(void *, const void *, std::size_t) noexcept;
  friend void *slicePtr(const void *) noexcept;
  friend std::size_t sliceLen(const void *) noexcept;

  std::array<std::uintptr_t, 2> repr;
};

#ifdef __cpp_deduction_guides
template <typename C>
explicit Slice(C &c)
    -> Slice<std::remove_reference_t<decltype(*std::declval<C>().data())>>;
#endif // __cpp_deduction_guides

template <typename T>
class Slice<T>::iterator final {
public:
#if __cplusplus >= 202002L
  using iterator_category = std::contiguous_iterator_tag;
#else
  using iterator_category = std::random_access_iterator_tag;
#endif
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = typename std::add_pointer<T>::type;
  using reference = typename std::add_lvalue_reference<T>::type;

  reference operator*() const noexcept;
  pointer operator->() const noexcept;
  reference operator[](difference_type) const noexcept;

  iterator &operator++() noexcept;
  iterator operator++(int) noexcept;
  iterator &operator--() noexcept;
  iterator operator--(int) noexcept;

  iterator &operator+=(difference_type) noexcept;
  iterator &operator-=(difference_type) noexcept;
  iterator operator+(difference_type) const noexcept;
  friend inline iterator operator+(difference_type lhs, iterator rhs) noexcept {
    return rhs + lhs;
  }
  iterator operator-(difference_type) const noexcept;
  difference_type operator-(const iterator &) const noexcept;

  bool operator==(const iterator &) const noexcept;
  bool operator!=(const iterator &) const noexcept;
  bool operator<(const iterator &) const noexcept;
  bool operator<=(const iterator &) const noexcept;
  bool operator>(const iterator &) const noexcept;
  bool operator>=(const iterator &) const noexcept;

private:
  friend class Slice;
  void *pos;
  std::size_t stride;
};

template <typename T>
Slice<T>::Slice() noexcept {
  sliceInit(this, reinterpret_cast<void *>(align_of<T>()), 0);
}

template <typename T>
Slice<T>::Slice(T *s, std::size_t count) noexcept {
  assert(s != nullptr || count == 0);
  sliceInit(this,
            s == nullptr && count == 0
                ? reinterpret_cast<void *>(align_of<T>())
                : const_cast<typename std::remove_const<T>::type *>(s),
            count);
}

template <typename T>
T *Slice<T>::data() const noexcept {
  return reinterpret_cast<T *>(slicePtr(this));
}

template <typename T>
std::size_t Slice<T>::size() const noexcept {
  return sliceLen(this);
}

template <typename T>
std::size_t Slice<T>::length() const noexcept {
  return this->size();
}

template <typename T>
bool Slice<T>::empty() const noexcept {
  return this->size() == 0;
}

template <typename T>
T &Slice<T>::operator[](std::size_t n) const noexcept {
  assert(n < this->size());
  auto ptr = static_cast<char *>(slicePtr(this)) + size_of<T>() * n;
  return *reinterpret_cast<T *>(ptr);
}

template <typename T>
T &Slice<T>::at(std::size_t n) const {
  if (n >= this->size()) {
    panic<std::out_of_range>("rust::Slice index out of range");
  }
  return (*this)[n];
}

template <typename T>
T &Slice<T>::front() const noexcept {
  assert(!this->empty());
  return (*this)[0];
}

template <typename T>
T &Slice<T>::back() const noexcept {
  assert(!this->empty());
  return (*this)[this->size() - 1];
}

template <typename T>
typename Slice<T>::iterator::reference
Slice<T>::iterator::operator*() const noexcept {
  return *static_cast<T *>(this->pos);
}

template <typename T>
typename Slice<T>::iterator::pointer
Slice<T>::iterator::operator->() const noexcept {
  return static_cast<T *>(this->pos);
}

template <typename T>
typename Slice<T>::iterator::reference Slice<T>::iterator::operator[](
    typename Slice<T>::iterator::difference_type n) const noexcept {
  auto ptr = static_cast<char *>(this->pos) + this->stride * n;
  return *reinterpret_cast<T *>(ptr);
}

template <typename T>
typename Slice<T>::iterator &Slice<T>::iterator::operator++() noexcept {
  this->pos = static_cast<char *>(this->pos) + this->stride;
  return *this;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::iterator::operator++(int) noexcept {
  auto ret = iterator(*this);
  this->pos = static_cast<char *>(this->pos) + this->stride;
  return ret;
}

template <typename T>
typename Slice<T>::iterator &Slice<T>::iterator::operator--() noexcept {
  this->pos = static_cast<char *>(this->pos) - this->stride;
  return *this;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::iterator::operator--(int) noexcept {
  auto ret = iterator(*this);
  this->pos = static_cast<char *>(this->pos) - this->stride;
  return ret;
}

template <typename T>
typename Slice<T>::iterator &Slice<T>::iterator::operator+=(
    typename Slice<T>::iterator::difference_type n) noexcept {
  this->pos = static_cast<char *>(this->pos) + this->stride * n;
  return *this;
}

template <typename T>
typename Slice<T>::iterator &Slice<T>::iterator::operator-=(
    typename Slice<T>::iterator::difference_type n) noexcept {
  this->pos = static_cast<char *>(this->pos) - this->stride * n;
  return *this;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::iterator::operator+(
    typename Slice<T>::iterator::difference_type n) const noexcept {
  auto ret = iterator(*this);
  ret.pos = static_cast<char *>(this->pos) + this->stride * n;
  return ret;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::iterator::operator-(
    typename Slice<T>::iterator::difference_type n) const noexcept {
  auto ret = iterator(*this);
  ret.pos = static_cast<char *>(this->pos) - this->stride * n;
  return ret;
}

template <typename T>
typename Slice<T>::iterator::difference_type
Slice<T>::iterator::operator-(const iterator &other) const noexcept {
  auto diff = std::distance(static_cast<char *>(other.pos),
                            static_cast<char *>(this->pos));
  return diff / static_cast<typename Slice<T>::iterator::difference_type>(
                    this->stride);
}

template <typename T>
bool Slice<T>::iterator::operator==(const iterator &other) const noexcept {
  return this->pos == other.pos;
}

template <typename T>
bool Slice<T>::iterator::operator!=(const iterator &other) const noexcept {
  return this->pos != other.pos;
}

template <typename T>
bool Slice<T>::iterator::operator<(const iterator &other) const noexcept {
  return this->pos < other.pos;
}

template <typename T>
bool Slice<T>::iterator::operator<=(const iterator &other) const noexcept {
  return this->pos <= other.pos;
}

template <typename T>
bool Slice<T>::iterator::operator>(const iterator &other) const noexcept {
  return this->pos > other.pos;
}

template <typename T>
bool Slice<T>::iterator::operator>=(const iterator &other) const noexcept {
  return this->pos >= other.pos;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::begin() const noexcept {
  iterator it;
  it.pos = slicePtr(this);
  it.stride = size_of<T>();
  return it;
}

template <typename T>
typename Slice<T>::iterator Slice<T>::end() const noexcept {
  iterator it = this->begin();
  it.pos = static_cast<char *>(it.pos) + it.stride * this->size();
  return it;
}

template <typename T>
void Slice<T>::swap(Slice &rhs) noexcept {
  std::swap(*this, rhs);
}
#endif // CXXBRIDGE1_RUST_SLICE

#ifndef CXXBRIDGE1_RUST_BOX
#define CXXBRIDGE1_RUST_BOX
template <typename T>
class Box final {
public:
  using element_type = T;
  using const_pointer =
      typename std::add_pointer<typename std::add_const<T>::type>::type;
  using pointer = typename std::add_pointer<T>::type;

  Box() = delete;
  Box(Box &&) noexcept;
  ~Box() noexcept;

  explicit Box(const T &);
  explicit Box(T &&);

  Box &operator=(Box &&) & noexcept;

  const T *operator->() const noexcept;
  const T &operator*() const noexcept;
  T *operator->() noexcept;
  T &operator*() noexcept;

  template <typename... Fields>
  static Box in_place(Fields &&...);

  void swap(Box &) noexcept;

  static Box from_raw(T *) noexcept;

  T *into_raw() noexcept;

  /* Deprecated */ using value_type = element_type;

private:
  class uninit;
  class allocation;
  Box(uninit) noexcept;
  void drop() noexcept;

  friend void swap(Box &lhs, Box &rhs) noexcept { lhs.swap(rhs); }

  T *ptr;
};

template <typename T>
class Box<T>::uninit {};

template <typename T>
class Box<T>::allocation {
  static T *alloc() noexcept;
  static void dealloc(T *) noexcept;

public:
  allocation() noexcept : ptr(alloc()) {}
  ~allocation() noexcept {
    if (this->ptr) {
      dealloc(this->ptr);
    }
  }
  T *ptr;
};

template <typename T>
Box<T>::Box(Box &&other) noexcept : ptr(other.ptr) {
  other.ptr = nullptr;
}

template <typename T>
Box<T>::Box(const T &val) {
  allocation alloc;
  ::new (alloc.ptr) T(val);
  this->ptr = alloc.ptr;
  alloc.ptr = nullptr;
}

template <typename T>
Box<T>::Box(T &&val) {
  allocation alloc;
  ::new (alloc.ptr) T(std::move(val));
  this->ptr = alloc.ptr;
  alloc.ptr = nullptr;
}

template <typename T>
Box<T>::~Box() noexcept {
  if (this->ptr) {
    this->drop();
  }
}

template <typename T>
Box<T> &Box<T>::operator=(Box &&other) & noexcept {
  if (this->ptr) {
    this->drop();
  }
  this->ptr = other.ptr;
  other.ptr = nullptr;
  return *this;
}

template <typename T>
const T *Box<T>::operator->() const noexcept {
  return this->ptr;
}

template <typename T>
const T &Box<T>::operator*() const noexcept {
  return *this->ptr;
}

template <typename T>
T *Box<T>::operator->() noexcept {
  return this->ptr;
}

template <typename T>
T &Box<T>::operator*() noexcept {
  return *this->ptr;
}

template <typename T>
template <typename... Fields>
Box<T> Box<T>::in_place(Fields &&...fields) {
  allocation alloc;
  auto ptr = alloc.ptr;
  ::new (ptr) T{std::forward<Fields>(fields)...};
  alloc.ptr = nullptr;
  return from_raw(ptr);
}

template <typename T>
void Box<T>::swap(Box &rhs) noexcept {
  using std::swap;
  swap(this->ptr, rhs.ptr);
}

template <typename T>
Box<T> Box<T>::from_raw(T *raw) noexcept {
  Box box = uninit{};
  box.ptr = raw;
  return box;
}

template <typename T>
T *Box<T>::into_raw() noexcept {
  T *raw = this->ptr;
  this->ptr = nullptr;
  return raw;
}

template <typename T>
Box<T>::Box(uninit) noexcept {}
#endif // CXXBRIDGE1_RUST_BOX

#ifndef CXXBRIDGE1_RUST_BITCOPY_T
#define CXXBRIDGE1_RUST_BITCOPY_T
struct unsafe_bitcopy_t final {
  explicit unsafe_bitcopy_t() = default;
};
#endif // CXXBRIDGE1_RUST_BITCOPY_T

#ifndef CXXBRIDGE1_RUST_VEC
#define CXXBRIDGE1_RUST_VEC
template <typename T>
class Vec final {
public:
  using value_type = T;

  Vec() noexcept;
  Vec(std::initializer_list<T>);
  Vec(const Vec &);
  Vec(Vec &&) noexcept;
  ~Vec() noexcept;

  Vec &operator=(Vec &&) & noexcept;
  Vec &operator=(const Vec &) &;

  std::size_t size() const noexcept;
  bool empty() const noexcept;
  const T *data() const noexcept;
  T *data() noexcept;
  std::size_t capacity() const noexcept;

  const T &operator[](std::size_t n) const noexcept;
  const T &at(std::size_t n) const;
  const T &front() const noexcept;
  const T &back() const noexcept;

  T &operator[](std::size_t n) noexcept;
  T &at(std::size_t n);
  T &front() noexcept;
  T &back() noexcept;

  void reserve(std::size_t new_cap);
  void push_back(const T &value);
  void push_back(T &&value);
  template <typename... Args>
  void emplace_back(Args &&...args);
  void truncate(std::size_t len);
  void clear();

  using iterator = typename Slice<T>::iterator;
  iterator begin() noexcept;
  iterator end() noexcept;

  using const_iterator = typename Slice<const T>::iterator;
  const_iterator begin() const noexcept;
  const_iterator end() const noexcept;
  const_iterator cbegin() const noexcept;
  const_iterator cend() const noexcept;

  void swap(Vec &) noexcept;

  Vec(unsafe_bitcopy_t, const Vec &) noexcept;

private:
  void reserve_total(std::size_t new_cap) noexcept;
  void set_len(std::size_t len) noexcept;
  void drop() noexcept;

  friend void swap(Vec &lhs, Vec &rhs) noexcept { lhs.swap(rhs); }

  std::array<std::uintptr_t, 3> repr;
};

template <typename T>
Vec<T>::Vec(std::initializer_list<T> init) : Vec{} {
  this->reserve_total(init.size());
  std::move(init.begin(), init.end(), std::back_inserter(*this));
}

template <typename T>
Vec<T>::Vec(const Vec &other) : Vec() {
  this->reserve_total(other.size());
  std::copy(other.begin(), other.end(), std::back_inserter(*this));
}

template <typename T>
Vec<T>::Vec(Vec &&other) noexcept : repr(other.repr) {
  new (&other) Vec();
}

template <typename T>
Vec<T>::~Vec() noexcept {
  this->drop();
}

template <typename T>
Vec<T> &Vec<T>::operator=(Vec &&other) & noexcept {
  this->drop();
  this->repr = other.repr;
  new (&other) Vec();
  return *this;
}

template <typename T>
Vec<T> &Vec<T>::operator=(const Vec &other) & {
  if (this != &other) {
    this->drop();
    new (this) Vec(other);
  }
  return *this;
}

template <typename T>
bool Vec<T>::empty() const noexcept {
  return this->size() == 0;
}

template <typename T>
const T &Vec<T>::operator[](std::size_t n) const noexcept {
  assert(n < this->size());
  auto data = reinterpret_cast<const char *>(this->data());
  return *reinterpret_cast<const T *>(data + n * size_of<T>());
}

template <typename T>
const T &Vec<T>::at(std::size_t n) const {
  if (n >= this->size()) {
    panic<std::out_of_range>("rust::Vec index out of range");
  }
  return (*this)[n];
}

template <typename T>
const T &Vec<T>::front() const noexcept {
  assert(!this->empty());
  return (*this)[0];
}

template <typename T>
const T &Vec<T>::back() const noexcept {
  assert(!this->empty());
  return (*this)[this->size() - 1];
}

template <typename T>
T &Vec<T>::operator[](std::size_t n) noexcept {
  assert(n < this->size());
  auto data = reinterpret_cast<char *>(this->data());
  return *reinterpret_cast<T *>(data + n * size_of<T>());
}

template <typename T>
T &Vec<T>::at(std::size_t n) {
  if (n >= this->size()) {
    panic<std::out_of_range>("rust::Vec index out of range");
  }
  return (*this)[n];
}

template <typename T>
T &Vec<T>::front() noexcept {
  assert(!this->empty());
  return (*this)[0];
}

template <typename T>
T &Vec<T>::back() noexcept {
  assert(!this->empty());
  return (*this)[this->size() - 1];
}

template <typename T>
void Vec<T>::reserve(std::size_t new_cap) {
  this->reserve_total(new_cap);
}

template <typename T>
void Vec<T>::push_back(const T &value) {
  this->emplace_back(value);
}

template <typename T>
void Vec<T>::push_back(T &&value) {
  this->emplace_back(std::move(value));
}

template <typename T>
template <typename... Args>
void Vec<T>::emplace_back(Args &&...args) {
  auto size = this->size();
  this->reserve_total(size + 1);
  ::new (reinterpret_cast<T *>(reinterpret_cast<char *>(this->data()) +
                               size * size_of<T>()))
      T(std::forward<Args>(args)...);
  this->set_len(size + 1);
}

template <typename T>
void Vec<T>::clear() {
  this->truncate(0);
}

template <typename T>
typename Vec<T>::iterator Vec<T>::begin() noexcept {
  return Slice<T>(this->data(), this->size()).begin();
}

template <typename T>
typename Vec<T>::iterator Vec<T>::end() noexcept {
  return Slice<T>(this->data(), this->size()).end();
}

template <typename T>
typename Vec<T>::const_iterator Vec<T>::begin() const noexcept {
  return this->cbegin();
}

template <typename T>
typename Vec<T>::const_iterator Vec<T>::end() const noexcept {
  return this->cend();
}

template <typename T>
typename Vec<T>::const_iterator Vec<T>::cbegin() const noexcept {
  return Slice<const T>(this->data(), this->size()).begin();
}

template <typename T>
typename Vec<T>::const_iterator Vec<T>::cend() const noexcept {
  return Slice<const T>(this->data(), this->size()).end();
}

template <typename T>
void Vec<T>::swap(Vec &rhs) noexcept {
  using std::swap;
  swap(this->repr, rhs.repr);
}

template <typename T>
Vec<T>::Vec(unsafe_bitcopy_t, const Vec &bits) noexcept : repr(bits.repr) {}
#endif // CXXBRIDGE1_RUST_VEC

#ifndef CXXBRIDGE1_RUST_ERROR
#define CXXBRIDGE1_RUST_ERROR
class Error final : public std::exception {
public:
  Error(const Error &);
  Error(Error &&) noexcept;
  ~Error() noexcept override;

  Error &operator=(const Error &) &;
  Error &operator=(Error &&) & noexcept;

  const char *what() const noexcept override;

private:
  Error() noexcept = default;
  friend impl<Error>;
  const char *msg;
  std::size_t len;
};
#endif // CXXBRIDGE1_RUST_ERROR

#ifndef CXXBRIDGE1_RUST_OPAQUE
#define CXXBRIDGE1_RUST_OPAQUE
class Opaque {
public:
  Opaque() = delete;
  Opaque(const Opaque &) = delete;
  ~Opaque() = delete;
};
#endif // CXXBRIDGE1_RUST_OPAQUE

#ifndef CXXBRIDGE1_IS_COMPLETE
#define CXXBRIDGE1_IS_COMPLETE
namespace detail {
namespace {
template <typename T, typename = std::size_t>
struct is_complete : std::false_type {};
template <typename T>
struct is_complete<T, decltype(sizeof(T))> : std::true_type {};
} // namespace
} // namespace detail
#endif // CXXBRIDGE1_IS_COMPLETE

#ifndef CXXBRIDGE1_LAYOUT
#define CXXBRIDGE1_LAYOUT
class layout {
  template <typename T>
  friend std::size_t size_of();
  template <typename T>
  friend std::size_t align_of();
  template <typename T>
  static typename std::enable_if<std::is_base_of<Opaque, T>::value,
                                 std::size_t>::type
  do_size_of() {
    return T::layout::size();
  }
  template <typename T>
  static typename std::enable_if<!std::is_base_of<Opaque, T>::value,
                                 std::size_t>::type
  do_size_of() {
    return sizeof(T);
  }
  template <typename T>
  static
      typename std::enable_if<detail::is_complete<T>::value, std::size_t>::type
      size_of() {
    return do_size_of<T>();
  }
  template <typename T>
  static typename std::enable_if<std::is_base_of<Opaque, T>::value,
                                 std::size_t>::type
  do_align_of() {
    return T::layout::align();
  }
  template <typename T>
  static typename std::enable_if<!std::is_base_of<Opaque, T>::value,
                                 std::size_t>::type
  do_align_of() {
    return alignof(T);
  }
  template <typename T>
  static
      typename std::enable_if<detail::is_complete<T>::value, std::size_t>::type
      align_of() {
    return do_align_of<T>();
  }
};

template <typename T>
std::size_t size_of() {
  return layout::size_of<T>();
}

template <typename T>
std::size_t align_of() {
  return layout::align_of<T>();
}
#endif // CXXBRIDGE1_LAYOUT

namespace repr {
struct PtrLen final {
  void *ptr;
  ::std::size_t len;
};
} // namespace repr

namespace detail {
template <typename T, typename = void *>
struct operator_new {
  void *operator()(::std::size_t sz) { return ::operator new(sz); }
};

template <typename T>
struct operator_new<T, decltype(T::operator new(sizeof(T)))> {
  void *operator()(::std::size_t sz) { return T::operator new(sz); }
};
} // namespace detail

template <typename T>
union MaybeUninit {
  T value;
  void *operator new(::std::size_t sz) { return detail::operator_new<T>{}(sz); }
  MaybeUninit() {}
  ~MaybeUninit() {}
};

namespace {
template <>
class impl<Error> final {
public:
  static Error error(repr::PtrLen repr) noexcept {
    Error error;
    error.msg = static_cast<char const *>(repr.ptr);
    error.len = repr.len;
    return error;
  }
};
} // namespace
} // namespace cxxbridge1
} // namespace rust

#if __cplusplus >= 201402L
#define CXX_DEFAULT_VALUE(value) = value
#else
#define CXX_DEFAULT_VALUE(value)
#endif

namespace cilium_jwt {
  enum class Provider : ::std::int32_t;
  struct JwtHeader;
  struct JwtRequirementSpec;
  struct EngineSettings;
  struct HeaderView;
  struct HeaderValue;
  struct Verdict;
  struct Engine;
  struct Requirement;
}

namespace cilium_jwt {
#ifndef CXXBRIDGE1_ENUM_cilium_jwt$Provider
#define CXXBRIDGE1_ENUM_cilium_jwt$Provider
// Kind of identity provider, numbered as NPDS' `JwtRequirement.Provider`.
enum class Provider : ::std::int32_t {
  // Any OpenID Connect provider.
  Oidc = 0,
  // Auth0.
  Auth0 = 1,
  // SPIRE (JWT-SVIDs; `sub` must be a SPIFFE ID).
  Spire = 2,
};
#endif // CXXBRIDGE1_ENUM_cilium_jwt$Provider

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$JwtHeader
#define CXXBRIDGE1_STRUCT_cilium_jwt$JwtHeader
// A request header a token may be read from (NPDS `JwtHeader`).
struct JwtHeader final {
  // Header name.
  ::rust::String name;
  // Text preceding the token in the value, e.g. `Bearer `; empty: the whole value.
  ::rust::String value_prefix;

  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$JwtHeader

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$JwtRequirementSpec
#define CXXBRIDGE1_STRUCT_cilium_jwt$JwtRequirementSpec
// The fields of an NPDS `JwtRequirement`, as C++ reads them from the proto.
struct JwtRequirementSpec final {
  // Kind of identity provider.
  ::cilium_jwt::Provider provider;
  // Required `iss`.
  ::rust::String issuer;
  // URL of the provider's JSON Web Key Set.
  ::rust::String jwks_uri;
  // Allowed audiences; empty allows any.
  ::rust::Vec<::rust::String> audiences;
  // Headers to read the token from.
  ::rust::Vec<::cilium_jwt::JwtHeader> from_headers;
  // Query parameters to read the token from.
  ::rust::Vec<::rust::String> from_params;
  // Keep the token in the forwarded request.
  bool forward CXX_DEFAULT_VALUE(false);
  // Whether `clock_skew_seconds` is set (unset: 60 s).
  bool has_clock_skew CXX_DEFAULT_VALUE(false);
  // Tolerance for `exp`/`nbf`, in seconds.
  ::std::uint32_t clock_skew_seconds CXX_DEFAULT_VALUE(0);
  // Whether `cache_duration_ms` is set (unset: 600 s).
  bool has_cache_duration CXX_DEFAULT_VALUE(false);
  // How long a fetched key set is used, in milliseconds.
  ::std::uint64_t cache_duration_ms CXX_DEFAULT_VALUE(0);

  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$JwtRequirementSpec

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$EngineSettings
#define CXXBRIDGE1_STRUCT_cilium_jwt$EngineSettings
// Engine-wide settings; 0 selects the engine's default.
struct EngineSettings final {
  // Deadline of one key set HTTP request (default 3000).
  ::std::uint32_t fetch_timeout_ms CXX_DEFAULT_VALUE(0);
  // Longest a check waits for keys being fetched (default 3000).
  ::std::uint32_t max_wait_ms CXX_DEFAULT_VALUE(0);

  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$EngineSettings

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$HeaderView
#define CXXBRIDGE1_STRUCT_cilium_jwt$HeaderView
// One request header entry, as bytes: HTTP allows non-UTF-8 values (obs-text), and
// building a `rust::Str` from them would throw on the request path.
struct HeaderView final {
  // Header name (pseudo-headers such as `:authority` included).
  ::rust::Slice<::std::uint8_t const> name;
  // Header value.
  ::rust::Slice<::std::uint8_t const> value;

  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$HeaderView

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$HeaderValue
#define CXXBRIDGE1_STRUCT_cilium_jwt$HeaderValue
// A header to set on an allowed request before it is forwarded.
struct HeaderValue final {
  // Header name (`:path` when a query parameter token is stripped).
  ::rust::String name;
  // New value.
  ::rust::String value;

  bool operator==(HeaderValue const &) const noexcept;
  bool operator!=(HeaderValue const &) const noexcept;
  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$HeaderValue

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$Verdict
#define CXXBRIDGE1_STRUCT_cilium_jwt$Verdict
// The decision for one request.
struct Verdict final {
  // Whether the request may proceed.
  bool allowed CXX_DEFAULT_VALUE(false);
  // HTTP status: 200 allowed, 403 audience not allowed, else 401.
  ::std::uint16_t status CXX_DEFAULT_VALUE(0);
  // Local reply body of a denial (jwt_authn's message), empty when allowed.
  ::rust::String body;
  // `WWW-Authenticate` of a denial, empty when allowed.
  ::rust::String www_authenticate;
  // Headers to remove from an allowed request (its token, unless `forward`).
  ::rust::Vec<::rust::String> remove_headers;
  // Headers to set on an allowed request.
  ::rust::Vec<::cilium_jwt::HeaderValue> set_headers;
  // Why it was denied, for access logs (the body, plus detail such as the last
  // key set fetch error); empty when allowed.
  ::rust::String reason;
  // Denied because no token was found (jwt_authn's `JwtMissed`): with several
  // requirements, a token that was found and rejected explains more.
  bool missing CXX_DEFAULT_VALUE(false);

  bool operator==(Verdict const &) const noexcept;
  bool operator!=(Verdict const &) const noexcept;
  using IsRelocatable = ::std::true_type;
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$Verdict

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$Engine
#define CXXBRIDGE1_STRUCT_cilium_jwt$Engine
// A JWT engine: shared key set and token caches plus the fetch thread.
struct Engine final : public ::rust::Opaque {
  // Compiles `spec`; identical specs share one compiled requirement and key set.
  // Starts fetching the key set. Errors name the invalid field.
  ::rust::Box<::cilium_jwt::Requirement> requirement(::cilium_jwt::JwtRequirementSpec const &spec) const;

  ~Engine() = delete;

private:
  friend ::rust::layout;
  struct layout {
    static ::std::size_t size() noexcept;
    static ::std::size_t align() noexcept;
  };
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$Engine

#ifndef CXXBRIDGE1_STRUCT_cilium_jwt$Requirement
#define CXXBRIDGE1_STRUCT_cilium_jwt$Requirement
// A compiled requirement, bound to its engine.
struct Requirement final : public ::rust::Opaque {
  // Authenticates a request (`path`: `:path` with its query).
  ::cilium_jwt::Verdict check(::rust::Slice<::std::uint8_t const> path, ::rust::Slice<::cilium_jwt::HeaderView const> headers) const noexcept;

  // Waits at most `timeout_ms` for the first key set fetch; whether keys are usable.
  bool wait_for_keys(::std::uint32_t timeout_ms) const noexcept;

  ~Requirement() = delete;

private:
  friend ::rust::layout;
  struct layout {
    static ::std::size_t size() noexcept;
    static ::std::size_t align() noexcept;
  };
};
#endif // CXXBRIDGE1_STRUCT_cilium_jwt$Requirement

extern "C" {
bool cilium_jwt$cxxbridge1$205$HeaderValue$operator$eq(HeaderValue const &, HeaderValue const &) noexcept;
bool cilium_jwt$cxxbridge1$205$Verdict$operator$eq(Verdict const &, Verdict const &) noexcept;
::std::size_t cilium_jwt$cxxbridge1$205$Engine$operator$sizeof() noexcept;
::std::size_t cilium_jwt$cxxbridge1$205$Engine$operator$alignof() noexcept;
::std::size_t cilium_jwt$cxxbridge1$205$Requirement$operator$sizeof() noexcept;
::std::size_t cilium_jwt$cxxbridge1$205$Requirement$operator$alignof() noexcept;

::rust::repr::PtrLen cilium_jwt$cxxbridge1$205$new_engine(::cilium_jwt::EngineSettings const &settings, ::rust::Box<::cilium_jwt::Engine> *return$) noexcept;

::rust::repr::PtrLen cilium_jwt$cxxbridge1$205$Engine$requirement(::cilium_jwt::Engine const &self, ::cilium_jwt::JwtRequirementSpec const &spec, ::rust::Box<::cilium_jwt::Requirement> *return$) noexcept;

void cilium_jwt$cxxbridge1$205$Requirement$check(::cilium_jwt::Requirement const &self, ::rust::Slice<::std::uint8_t const> path, ::rust::Slice<::cilium_jwt::HeaderView const> headers, ::cilium_jwt::Verdict *return$) noexcept;

bool cilium_jwt$cxxbridge1$205$Requirement$wait_for_keys(::cilium_jwt::Requirement const &self, ::std::uint32_t timeout_ms) noexcept;
} // extern "C"

bool HeaderValue::operator==(HeaderValue const &rhs) const noexcept {
  return cilium_jwt$cxxbridge1$205$HeaderValue$operator$eq(*this, rhs);
}

bool HeaderValue::operator!=(HeaderValue const &rhs) const noexcept {
  return !(*this == rhs);
}

bool Verdict::operator==(Verdict const &rhs) const noexcept {
  return cilium_jwt$cxxbridge1$205$Verdict$operator$eq(*this, rhs);
}

bool Verdict::operator!=(Verdict const &rhs) const noexcept {
  return !(*this == rhs);
}

::std::size_t Engine::layout::size() noexcept {
  return cilium_jwt$cxxbridge1$205$Engine$operator$sizeof();
}

::std::size_t Engine::layout::align() noexcept {
  return cilium_jwt$cxxbridge1$205$Engine$operator$alignof();
}

::std::size_t Requirement::layout::size() noexcept {
  return cilium_jwt$cxxbridge1$205$Requirement$operator$sizeof();
}

::std::size_t Requirement::layout::align() noexcept {
  return cilium_jwt$cxxbridge1$205$Requirement$operator$alignof();
}

// Starts an engine. Errors if its runtime or HTTP client cannot start.
::rust::Box<::cilium_jwt::Engine> new_engine(::cilium_jwt::EngineSettings const &settings) {
  ::rust::MaybeUninit<::rust::Box<::cilium_jwt::Engine>> return$;
  ::rust::repr::PtrLen error$ = cilium_jwt$cxxbridge1$205$new_engine(settings, &return$.value);
  if (error$.ptr) {
    throw ::rust::impl<::rust::Error>::error(error$);
  }
  return ::std::move(return$.value);
}

::rust::Box<::cilium_jwt::Requirement> Engine::requirement(::cilium_jwt::JwtRequirementSpec const &spec) const {
  ::rust::MaybeUninit<::rust::Box<::cilium_jwt::Requirement>> return$;
  ::rust::repr::PtrLen error$ = cilium_jwt$cxxbridge1$205$Engine$requirement(*this, spec, &return$.value);
  if (error$.ptr) {
    throw ::rust::impl<::rust::Error>::error(error$);
  }
  return ::std::move(return$.value);
}

::cilium_jwt::Verdict Requirement::check(::rust::Slice<::std::uint8_t const> path, ::rust::Slice<::cilium_jwt::HeaderView const> headers) const noexcept {
  ::rust::MaybeUninit<::cilium_jwt::Verdict> return$;
  cilium_jwt$cxxbridge1$205$Requirement$check(*this, path, headers, &return$.value);
  return ::std::move(return$.value);
}

bool Requirement::wait_for_keys(::std::uint32_t timeout_ms) const noexcept {
  return cilium_jwt$cxxbridge1$205$Requirement$wait_for_keys(*this, timeout_ms);
}
} // namespace cilium_jwt

extern "C" {
void cxxbridge1$rust_vec$cilium_jwt$JwtHeader$new(::rust::Vec<::cilium_jwt::JwtHeader> const *ptr) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$JwtHeader$drop(::rust::Vec<::cilium_jwt::JwtHeader> *ptr) noexcept;
::std::size_t cxxbridge1$rust_vec$cilium_jwt$JwtHeader$len(::rust::Vec<::cilium_jwt::JwtHeader> const *ptr) noexcept;
::std::size_t cxxbridge1$rust_vec$cilium_jwt$JwtHeader$capacity(::rust::Vec<::cilium_jwt::JwtHeader> const *ptr) noexcept;
::cilium_jwt::JwtHeader const *cxxbridge1$rust_vec$cilium_jwt$JwtHeader$data_const(::rust::Vec<::cilium_jwt::JwtHeader> const *ptr) noexcept;
::cilium_jwt::JwtHeader *cxxbridge1$rust_vec$cilium_jwt$JwtHeader$data_mut(::rust::Vec<::cilium_jwt::JwtHeader> *ptr) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$JwtHeader$reserve_total(::rust::Vec<::cilium_jwt::JwtHeader> *ptr, ::std::size_t new_cap) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$JwtHeader$set_len(::rust::Vec<::cilium_jwt::JwtHeader> *ptr, ::std::size_t len) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$JwtHeader$truncate(::rust::Vec<::cilium_jwt::JwtHeader> *ptr, ::std::size_t len) noexcept;

void cxxbridge1$rust_vec$cilium_jwt$HeaderValue$new(::rust::Vec<::cilium_jwt::HeaderValue> const *ptr) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$HeaderValue$drop(::rust::Vec<::cilium_jwt::HeaderValue> *ptr) noexcept;
::std::size_t cxxbridge1$rust_vec$cilium_jwt$HeaderValue$len(::rust::Vec<::cilium_jwt::HeaderValue> const *ptr) noexcept;
::std::size_t cxxbridge1$rust_vec$cilium_jwt$HeaderValue$capacity(::rust::Vec<::cilium_jwt::HeaderValue> const *ptr) noexcept;
::cilium_jwt::HeaderValue const *cxxbridge1$rust_vec$cilium_jwt$HeaderValue$data_const(::rust::Vec<::cilium_jwt::HeaderValue> const *ptr) noexcept;
::cilium_jwt::HeaderValue *cxxbridge1$rust_vec$cilium_jwt$HeaderValue$data_mut(::rust::Vec<::cilium_jwt::HeaderValue> *ptr) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$HeaderValue$reserve_total(::rust::Vec<::cilium_jwt::HeaderValue> *ptr, ::std::size_t new_cap) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$HeaderValue$set_len(::rust::Vec<::cilium_jwt::HeaderValue> *ptr, ::std::size_t len) noexcept;
void cxxbridge1$rust_vec$cilium_jwt$HeaderValue$truncate(::rust::Vec<::cilium_jwt::HeaderValue> *ptr, ::std::size_t len) noexcept;

::cilium_jwt::Engine *cxxbridge1$box$cilium_jwt$Engine$alloc() noexcept;
void cxxbridge1$box$cilium_jwt$Engine$dealloc(::cilium_jwt::Engine *) noexcept;
void cxxbridge1$box$cilium_jwt$Engine$drop(::rust::Box<::cilium_jwt::Engine> *ptr) noexcept;

::cilium_jwt::Requirement *cxxbridge1$box$cilium_jwt$Requirement$alloc() noexcept;
void cxxbridge1$box$cilium_jwt$Requirement$dealloc(::cilium_jwt::Requirement *) noexcept;
void cxxbridge1$box$cilium_jwt$Requirement$drop(::rust::Box<::cilium_jwt::Requirement> *ptr) noexcept;
} // extern "C"

namespace rust {
inline namespace cxxbridge1 {
template <>
Vec<::cilium_jwt::JwtHeader>::Vec() noexcept {
  cxxbridge1$rust_vec$cilium_jwt$JwtHeader$new(this);
}
template <>
void Vec<::cilium_jwt::JwtHeader>::drop() noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$drop(this);
}
template <>
::std::size_t Vec<::cilium_jwt::JwtHeader>::size() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$len(this);
}
template <>
::std::size_t Vec<::cilium_jwt::JwtHeader>::capacity() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$capacity(this);
}
template <>
::cilium_jwt::JwtHeader const *Vec<::cilium_jwt::JwtHeader>::data() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$data_const(this);
}
template <>
::cilium_jwt::JwtHeader *Vec<::cilium_jwt::JwtHeader>::data() noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$data_mut(this);
}
template <>
void Vec<::cilium_jwt::JwtHeader>::reserve_total(::std::size_t new_cap) noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$reserve_total(this, new_cap);
}
template <>
void Vec<::cilium_jwt::JwtHeader>::set_len(::std::size_t len) noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$set_len(this, len);
}
template <>
void Vec<::cilium_jwt::JwtHeader>::truncate(::std::size_t len) {
  return cxxbridge1$rust_vec$cilium_jwt$JwtHeader$truncate(this, len);
}
template <>
Vec<::cilium_jwt::HeaderValue>::Vec() noexcept {
  cxxbridge1$rust_vec$cilium_jwt$HeaderValue$new(this);
}
template <>
void Vec<::cilium_jwt::HeaderValue>::drop() noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$drop(this);
}
template <>
::std::size_t Vec<::cilium_jwt::HeaderValue>::size() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$len(this);
}
template <>
::std::size_t Vec<::cilium_jwt::HeaderValue>::capacity() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$capacity(this);
}
template <>
::cilium_jwt::HeaderValue const *Vec<::cilium_jwt::HeaderValue>::data() const noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$data_const(this);
}
template <>
::cilium_jwt::HeaderValue *Vec<::cilium_jwt::HeaderValue>::data() noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$data_mut(this);
}
template <>
void Vec<::cilium_jwt::HeaderValue>::reserve_total(::std::size_t new_cap) noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$reserve_total(this, new_cap);
}
template <>
void Vec<::cilium_jwt::HeaderValue>::set_len(::std::size_t len) noexcept {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$set_len(this, len);
}
template <>
void Vec<::cilium_jwt::HeaderValue>::truncate(::std::size_t len) {
  return cxxbridge1$rust_vec$cilium_jwt$HeaderValue$truncate(this, len);
}
template <>
::cilium_jwt::Engine *Box<::cilium_jwt::Engine>::allocation::alloc() noexcept {
  return cxxbridge1$box$cilium_jwt$Engine$alloc();
}
template <>
void Box<::cilium_jwt::Engine>::allocation::dealloc(::cilium_jwt::Engine *ptr) noexcept {
  cxxbridge1$box$cilium_jwt$Engine$dealloc(ptr);
}
template <>
void Box<::cilium_jwt::Engine>::drop() noexcept {
  cxxbridge1$box$cilium_jwt$Engine$drop(this);
}
template <>
::cilium_jwt::Requirement *Box<::cilium_jwt::Requirement>::allocation::alloc() noexcept {
  return cxxbridge1$box$cilium_jwt$Requirement$alloc();
}
template <>
void Box<::cilium_jwt::Requirement>::allocation::dealloc(::cilium_jwt::Requirement *ptr) noexcept {
  cxxbridge1$box$cilium_jwt$Requirement$dealloc(ptr);
}
template <>
void Box<::cilium_jwt::Requirement>::drop() noexcept {
  cxxbridge1$box$cilium_jwt$Requirement$drop(this);
}
} // namespace cxxbridge1
} // namespace rust
