// bench/compile/umbrella_only.cpp: the whole library's headers and nothing else (what a file pays
// for parsing before it creates a task).
#include <sweet_async/sweet_async.hpp>

int main() {}
