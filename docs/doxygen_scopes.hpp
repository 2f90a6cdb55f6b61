// Read by Doxygen only (docs/Doxyfile.in), never compiled: the namespaces of other libraries that
// the public headers specialize templates of, so that Doxygen 1.9.4 can place those
// specializations (without it: "Internal inconsistency: scope for class fmt::formatter<...> not
// found"). Nothing here is documented, so nothing here appears in the reference.
namespace fmt {
template <class T, class Char, class Enable>
struct formatter;
}  // namespace fmt
