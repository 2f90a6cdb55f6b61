# Checks that the first ```cpp listing of README.md is byte-identical to examples/quickstart.cpp,
# so the README's first example is the one that is compiled and run.
#
#   cmake -DREADME=<README.md> -DEXAMPLE=<quickstart.cpp> -DEXTRACTED=<file> -DSTAMP=<file>
#         -P check_readme_listing.cmake
#
# Writes the listing to EXTRACTED; on a match touches STAMP, otherwise fails with a unified diff
# when `diff` is available.
foreach(_var README EXAMPLE EXTRACTED STAMP)
    if(NOT DEFINED ${_var})
        message(FATAL_ERROR "check_readme_listing.cmake: -D${_var}=... is required")
    endif()
endforeach()

file(READ "${README}" _readme)
# The listing runs from the line after the first "```cpp" fence to the closing fence; the
# newline before the closing fence ends the listing's last line.
string(FIND "${_readme}" "```cpp\n" _open)
if(_open EQUAL -1)
    message(FATAL_ERROR "${README}: no ```cpp listing found; "
                        "the first one must be a copy of ${EXAMPLE}")
endif()
math(EXPR _open "${_open} + 7")
string(SUBSTRING "${_readme}" ${_open} -1 _rest)
string(FIND "${_rest}" "\n```" _close)
if(_close EQUAL -1)
    message(FATAL_ERROR "${README}: the first ```cpp listing is not closed")
endif()
math(EXPR _close "${_close} + 1")
string(SUBSTRING "${_rest}" 0 ${_close} _listing)
file(WRITE "${EXTRACTED}" "${_listing}")
file(REMOVE "${STAMP}")

execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${EXTRACTED}" "${EXAMPLE}"
                RESULT_VARIABLE _differ)
if(NOT _differ)
    file(TOUCH "${STAMP}")
    return()
endif()

find_program(_diff diff)
if(_diff)
    execute_process(COMMAND "${_diff}" -u --label "${README} (first cpp listing)" "${EXTRACTED}"
                            --label "${EXAMPLE}" "${EXAMPLE}"
                    OUTPUT_VARIABLE _report)
else()
    set(_report "(no `diff` program found to show the lines that differ)\n")
endif()
# NOTICE prints the text as is (FATAL_ERROR would re-wrap the diff).
message(NOTICE
    "error: the README's first listing and the quickstart example differ:\n"
    "  ${README} (first ```cpp block, extracted to ${EXTRACTED})\n"
    "  ${EXAMPLE}\n"
    "They must be byte-identical: the README promises its first listing compiles as printed.\n"
    "${_report}")
message(FATAL_ERROR "README.md's first listing differs from examples/quickstart.cpp (diff above)")
