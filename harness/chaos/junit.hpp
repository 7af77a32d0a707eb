// junit.xml from a sweep.json (a shard's or a merge's): one <testcase> per seed, the
// seed in its name, the scenario as its classname, a failure message naming the
// violated expectations and the reproduce command. The JUnit dialect GitLab, Jenkins
// and GitHub test reporters read: <testsuites> around one <testsuite>, with tests,
// failures, errors, skipped and time counts.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meshsim::harness {

// TEXT as XML 1.0 character data or attribute value: markup characters as entities,
// line breaks as &#10; in attributes, and everything XML 1.0 cannot carry (control
// characters, bytes that are not UTF-8, U+FFFE/U+FFFF) escaped visibly as printable() does.
std::string xml_escape(std::string_view text, bool attribute);

// The whole junit.xml document of SWEEP (a valid sweep.json object).
std::string junit_xml(const nlohmann::json& sweep);

}  // namespace meshsim::harness
