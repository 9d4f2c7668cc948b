// The target that makes the tests' precompiled headers (tests/CMakeLists.txt, SLUICE_PCH): it
// compiles nothing else.
