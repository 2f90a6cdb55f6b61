// bench/compile/asio_fmt_only.cpp: umbrella_only.cpp's baseline, the headers a hand-written Asio
// program with {fmt} output starts from.
#include <asio.hpp>
#include <fmt/format.h>

int main() {}
