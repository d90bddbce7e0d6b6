namespace OpsRobot.Core.Tests.Aliases;

/// <summary>
/// Format / text / expected rows shared by the alias tests. Expected is the parameters StackStorm extracts, as
/// alternating name and value in StackStorm's order (format parameters, then trailing pairs), or null when
/// StackStorm's parser rejects the command (ParseException). The StackStorm rows restate the cases of st2common
/// tests/unit/test_action_alias_utils.py (current and earlier versions), the st2api alias-execution fixtures and
/// st2common test_actionalias_matching.py; every expectation was checked against StackStorm's parser running on
/// CPython 3.8.
/// </summary>
public static class AliasCases
{
    public static TheoryData<string, string, string[]?> StackStorm => new()
    {
        // empty format, empty text: nothing to extract (test_empty_string)
        { "", "", [] },
        // a lone key=value pair with an empty format (test_arbitrary_pairs)
        { "", "a=foobar1", ["a", "foobar1"] },
        // double-quoted pair value keeps its spaces (test_arbitrary_pairs)
        { "foo", "foo a=\"foobar2 poonies bar\"", ["a", "foobar2 poonies bar"] },
        // single-quoted pair value keeps its spaces (test_arbitrary_pairs)
        { "foo", "foo a='foobar2 poonies bar'", ["a", "foobar2 poonies bar"] },
        // a {...} pair value is taken whole (test_arbitrary_pairs)
        { "foo", "foo a={\"foobar2\": \"poonies\"}", ["a", "{\"foobar2\": \"poonies\"}"] },
        // word, quoted and JSON pair values together (test_arbitrary_pairs)
        { "", "a=foobar1 b=\"boobar2 3 4\" c='coobar3 4' d={\"a\": \"b\"}", ["a", "foobar1", "b", "boobar2 3 4", "c", "coobar3 4", "d", "{\"a\": \"b\"}"] },
        // a leading parameter takes several words; a trailing pair is extra (test_arbitrary_pairs)
        { "{{ captain }} is my captain", "Malcolm Reynolds is my captain weirdo=\"River Tam\"", ["captain", "Malcolm Reynolds", "weirdo", "River Tam"] },
        // two parameters between literal words (test_simple_parsing)
        { "skip {{a}} more skip {{b}} and skip more.", "skip a1 more skip b1 and skip more.", ["a", "a1", "b", "b1"] },
        // a parameter at the very end (test_end_string_parsing)
        { "skip {{a}} more skip {{b}}", "skip a1 more skip b1", ["a", "a1", "b", "b1"] },
        // a double-quoted value with a space (test_spaced_parsing)
        { "skip {{a}} more skip {{b}} and skip more.", "skip \"a1 a2\" more skip b1 and skip more.", ["a", "a1 a2", "b", "b1"] },
        // quoted values and an absent optional taking its default (test_default_values)
        { "acl {{a}} {{b}} {{c}} {{d=1}}", "acl \"a1 a2\" \"b1\" \"c1\"", ["a", "a1 a2", "b", "b1", "c", "c1", "d", "1"] },
        // an absent optional also drops the space before it (test_spacing)
        { "acl {{a=test}}", "acl", ["a", "test"] },
        // a JSON object value is captured whole (test_json_parsing)
        { "skip {{a}} more skip.", "skip {\"a\": \"b\", \"c\": \"d\"} more skip.", ["a", "{\"a\": \"b\", \"c\": \"d\"}"] },
        // a JSON value and a word value (test_mixed_parsing)
        { "skip {{a}} more skip {{b}}.", "skip {\"a\": \"b\", \"c\": \"d\"} more skip x.", ["a", "{\"a\": \"b\", \"c\": \"d\"}", "b", "x"] },
        // spaces inside {{ }} around names and defaults (test_param_spaces)
        { "s {{a}} more {{ b }} more {{ c=99 }} more {{ d = 99 }}", "s one more two more three more", ["a", "one", "b", "two", "c", "three", "d", "99"] },
        // an optional with spaces around '=' given a value (test_enclosed_defaults)
        { "skip {{ a = value }} more", "skip one more", ["a", "one"] },
        // an optional with spaces around '=' left out (test_enclosed_defaults)
        { "skip {{ a = value }} more", "skip more", ["a", "value"] },
        // a default that is itself a {{ template }} (test_template_defaults)
        { "two by two hands of {{ color = {{ colors.default_color }} }}", "two by two hands of", ["color", "{{ colors.default_color }}"] },
        // a word value and one extra pair (test_key_value_combinations)
        { "testing {{ a }}", "testing value b=value2", ["a", "value", "b", "value2"] },
        // default kept, quoted extra pair (test_key_value_combinations)
        { "testing {{ a=new }}", "testing b=\"another value\"", ["a", "new", "b", "another value"] },
        // two optionals, JSON and quoted extra pairs (test_key_value_combinations)
        { "testing {{ b=abc }} {{ c=xyz }}", "testing newvalue d={\"1\": \"2\"} e=\"long value\"", ["b", "newvalue", "c", "xyz", "d", "{\"1\": \"2\"}", "e", "long value"] },
        // all optionals absent take their defaults (test_stream_is_none_with_all_default_values)
        { "skip {{d=test1}} more skip {{e=test1}}.", "skip more skip", ["d", "test1", "e", "test1"] },
        // first optional given, second defaulted (test_stream_is_not_none_some_default_values)
        { "skip {{d=test}} more skip {{e=test}}", "skip ponies more skip", ["d", "ponies", "e", "test"] },
        // empty text against required parameters does not match (test_stream_is_none_no_default_values)
        { "skip {{d}} more skip {{e}}.", "", null },
        // quoted, JSON and template defaults with a URL and pairs (test_all_the_things)
        { "{{ p0='http' }} g {{ p1=p }} a {{ url }} {{ p2={'a':'b'} }} {{ p3={{ e.i }} }}", "g a http://google.com {{ execution.id }} p4='testing' p5={'a':'c'}", ["p0", "http", "p1", "p", "url", "http://google.com", "p2", "{{ execution.id }}", "p3", "{{ e.i }}", "p4", "testing", "p5", "{'a':'c'}"] },
        // a different literal word does not match (test_command_doesnt_match_format_string)
        { "foo bar ponies", "foo lulz ponies", null },
        // pairs after a parameterless format (test_ending_parameters_matching)
        { "foo bar", "foo bar pony1=foo pony2=bar", ["pony1", "foo", "pony2", "bar"] },
        // a format's own ^ anchor; named regex group (test_regex_beginning_anchors)
        { "^\\s*foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)", "foo ASDF-1234", ["issue_key", "ASDF-1234"] },
        // a format's own ^ anchor rejects a prefix (test_regex_beginning_anchors_dont_match)
        { "^\\s*foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)", "bar foo ASDF-1234", null },
        // a format's own $ anchor (test_regex_ending_anchors)
        { "foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)\\s*$", "foo ASDF-1234", ["issue_key", "ASDF-1234"] },
        // a format's own $ anchor rejects a suffix (test_regex_ending_anchors_dont_match)
        { "foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)\\s*$", "foo ASDF-1234 bar", null },
        // both anchors in the format (test_regex_beginning_and_ending_anchors)
        { "^\\s*foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+) bar\\s*$", "foo ASDF-1234 bar", ["issue_key", "ASDF-1234"] },
        // both anchors, wrong first word (test_regex_beginning_and_ending_anchors_dont_match)
        { "^\\s*foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)\\s*$", "bar ASDF-1234", null },
        // older test row: pairs not at the end no longer count, so no match (earlier test_default_key_value_param_parsing)
        { "", "foo a=foobar2 poonies bar", null },
        // older test row: three pairs (earlier test_default_key_value_param_parsing)
        { "", "a=foobar1 b=boobar2 c=coobar3", ["a", "foobar1", "b", "boobar2", "c", "coobar3"] },
        // older test row: a=... inside the text is now the parameter's value (earlier test_default_key_value_param_parsing)
        { "somestuff {{a}} more stuff {{b}}", "somestuff a=foobar more stuff coobar", ["a", "a=foobar", "b", "coobar"] },
        // older test row: plain words (earlier test_default_key_value_param_parsing)
        { "somestuff {{a}} more stuff {{b}}", "somestuff ponies more stuff coobar", ["a", "ponies", "b", "coobar"] },
        // older test row: a trailing pair overrides a format parameter (earlier test_default_key_value_param_parsing)
        { "somestuff {{a}} more stuff {{b}}", "somestuff ponies more stuff coobar b=foo", ["a", "ponies", "b", "foo"] },
        // alias1 fixture: a quoted second parameter (st2api test_basic_execution)
        { "Lorem ipsum {{param1}} dolor sit {{param2}} amet.", "Lorem ipsum value1 dolor sit \"value2 value3\" amet.", ["param1", "value1", "param2", "value2 value3"] },
        // alias2 fixture: one array value stays a string here (test_execution_with_array_type_single_value)
        { "Lorem ipsum {{param1}} dolor sit {{param3}} amet.", "Lorem ipsum value1 dolor sit value2 amet.", ["param1", "value1", "param3", "value2"] },
        // alias2 fixture: comma list stays one string; casting is later (test_execution_with_array_type_multi_value)
        { "Lorem ipsum {{param1}} dolor sit {{param3}} amet.", "Lorem ipsum value1 dolor sit \"value2, value3\" amet.", ["param1", "value1", "param3", "value2, value3"] },
        // alias4 fixture: secret parameter (test_execution_secret_parameter)
        { "Lorem ipsum {{param1}} dolor sit {{param4}} amet.", "Lorem ipsum value1 dolor sit SUPER_SECRET_PARAMETER amet.", ["param1", "value1", "param4", "SUPER_SECRET_PARAMETER"] },
        // alias5 fixture: a format without parameters (test_basic_execution_with_immutable_parameters)
        { "lorem ipsum", "lorem ipsum", [] },
        // run/on fixture (test_match_and_execute_matches_one)
        { "run {{cmd}} on {{hosts}}", "run date on localhost", ["cmd", "date", "hosts", "localhost"] },
        // run/on fixture against an unrelated command (test_match_and_execute_doesnt_match)
        { "run {{cmd}} on {{hosts}}", "hello donny", null },
        // alias1 and alias2 both match this command, which StackStorm calls ambiguous (test_match_and_execute_matches_many)
        { "Lorem ipsum {{param1}} dolor sit {{param2}} amet.", "Lorem ipsum banana dolor sit pineapple amet.", ["param1", "banana", "param2", "pineapple"] },
        // a format starting with a parameter (test_actionalias_matching test_matching)
        { "{{choice}} cross the {{target}}", "Don't cross the streams", ["choice", "Don't", "target", "streams"] },
        // display/representation fixture: optional left out (helpstring fixtures)
        { "Number 5 is {{status=alive}}", "Number 5 is", ["status", "alive"] },
        // display/representation fixture: optional given
        { "Number 5 is {{status=alive}}", "Number 5 is dead", ["status", "dead"] },
        // '?' in a format is regex syntax, so the help text itself does not match
        { "How do I feel? I feel... {{status}}!", "How do I feel? I feel... alive!", null },
        // '?' makes the preceding letter optional; '.' matches any character
        { "How do I feel? I feel... {{status}}!", "How do I feel I feel... alive!", ["status", "alive"] },
        // a match_multiple format matched once takes the first occurrence (alias_match_multiple fixture)
        { "(?:\\b|^)duplicate of (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)", "JKROWLING-4 is a duplicate of JRRTOLKIEN-24 which is a duplicate of DRSEUSS-12", ["issue_key", "JRRTOLKIEN-24"] },
    };

    /// <summary>
    /// Behaviour the port must share with StackStorm beyond its own tests: quoting, spacing, case, trailing pairs,
    /// regex syntax in formats, non-ASCII and control characters. Expected values are StackStorm's parser's output
    /// on CPython 3.8, except the row marked as a deliberate difference.
    /// </summary>
    public static TheoryData<string, string, string[]?> Behaviour => new()
    {
        // case-sensitive: an upper-case command does not match a lower-case format
        { "deploy {{app}}", "DEPLOY web", null },
        // case-sensitive the other way round
        { "Deploy {{app}}", "deploy web", null },
        // extra spaces before a value stay in the value
        { "deploy {{app}}", "deploy   myapp", ["app", "  myapp"] },
        // literal words need the format's exact spacing
        { "foo bar", "foo  bar", null },
        // a tab is not the format's space
        { "nagios ack {{host}}", "nagios\tack web1", null },
        // leading and trailing spaces around the command are ignored
        { "nagios ack {{host}}", "  nagios ack web1  ", ["host", "web1"] },
        // the last parameter takes the rest of the line
        { "run {{cmd}} on {{hosts}}", "run date on localhost extra words", ["cmd", "date", "hosts", "localhost extra words"] },
        // more words than a parameterless format: no match
        { "foo bar", "foo bar baz", null },
        // a value stops at the first place the rest of the format matches
        { "{{a}} {{b}}", "x y z", ["a", "x", "b", "y z"] },
        // two parameters with nothing between them split after one character
        { "{{a}}{{b}}", "xy", ["a", "x", "b", "y"] },
        // double and single quotes around two values
        { "say {{a}} {{b}}", "say \"x y\" 'z w'", ["a", "x y", "b", "z w"] },
        // an unclosed opening quote is dropped
        { "say {{msg}}", "say \"hello", ["msg", "hello"] },
        // an unmatched closing quote is dropped
        { "say {{msg}}", "say hello\"", ["msg", "hello"] },
        // two quoted strings in the last parameter: outer quotes dropped
        { "say {{msg}}", "say \"a\" \"b\"", ["msg", "a\" \"b"] },
        // doubled single quotes inside single quotes stay
        { "say {{msg}}", "say 'it''s'", ["msg", "it''s"] },
        // a JSON object with a nested array
        { "say {{msg}}", "say {\"a\": [1, 2]}", ["msg", "{\"a\": [1, 2]}"] },
        // a JSON array is just text
        { "say {{msg}}", "say [1,2]", ["msg", "[1,2]"] },
        // a nested JSON object followed by a word
        { "set {{k}} {{v}}", "set {\"a\": {\"b\": 1}} x", ["k", "{\"a\": {\"b\": 1}}", "v", "x"] },
        // braces are taken whole before a literal word
        { "set {{k}} to {{v}}", "set {a} to {b}", ["k", "{a}", "v", "{b}"] },
        // an optional parameter given, default not used
        { "deploy {{app}} to {{env=staging}}", "deploy web to prod", ["app", "web", "env", "prod"] },
        // an optional parameter left out after its literal word
        { "deploy {{app}} to {{env=staging}}", "deploy web to", ["app", "web", "env", "staging"] },
        // the literal word before an optional is still required
        { "deploy {{app}} to {{env=staging}}", "deploy web", null },
        // optional parameter alone
        { "deploy {{app=web}}", "deploy", ["app", "web"] },
        // an optional's space is required when it is given
        { "deploy {{app=web}}", "deployx", null },
        // a whole optional in an unquoted default with spaces
        { "x {{a=b c}}", "x", ["a", "b c"] },
        // a quoted default keeps its spaces
        { "x {{a=\"p q\"}}", "x", ["a", "p q"] },
        // an empty quoted default
        { "x {{a=\"\"}}", "x", ["a", ""] },
        // a default containing '='
        { "x {{a=b=c}}", "x", ["a", "b=c"] },
        // a JSON default
        { "x {{a={\"k\": 1}}}", "x", ["a", "{\"k\": 1}"] },
        // trailing pairs after the last parameter are not part of it
        { "run {{cmd}}", "run ls -la mode=fast", ["cmd", "ls -la", "mode", "fast"] },
        // a pair named like a format parameter replaces its value
        { "run {{cmd}}", "run ls cmd=pwd", ["cmd", "pwd"] },
        // a command that is only a pair leaves the parameter empty: no match
        { "run {{cmd}}", "run cmd=ls", null },
        // key= with nothing after it is not a pair
        { "run {{cmd}}", "run ls a= b=1", ["cmd", "ls a=", "b", "1"] },
        // key="" is a pair with an empty value
        { "foo", "foo a=\"\"", ["a", ""] },
        // key='' is a pair with an empty value
        { "foo", "foo a=''", ["a", ""] },
        // a repeated key: the last value wins
        { "foo", "foo a=1 a=2", ["a", "2"] },
        // spaces before '=' are allowed in a pair
        { "foo", "foo a =1", ["a", "1"] },
        // a space after '=' breaks the pair
        { "foo", "foo a= 1", null },
        // a value with '=' in it
        { "foo", "foo a=b=c", ["a", "b=c"] },
        // an unclosed quote in a pair value is part of the word
        { "foo", "foo a=\"unclosed", ["a", "\"unclosed"] },
        // a quoted pair value ends at the first closing quote
        { "foo", "foo a=\"x b=\"y\"", ["a", "x b="] },
        // pairs separated by several spaces and a unit separator
        { "foo", "foo\ta=1\u001Fb=2", ["a", "1", "b", "2"] },
        // DELIBERATE DIFFERENCE: only the trailing pairs are cut; StackStorm deletes every copy of them, giving cmd "echo and"
        { "run {{cmd}}", "run echo x=1 and x=1", ["cmd", "echo x=1 and", "x", "1"] },
        // a trailing newline after pairs
        { "foo", "foo a=1\n", ["a", "1"] },
        // a parameter-only format matches a command of pairs with a blank value
        { "{{x}}", "a=1 b=2", ["x", " ", "a", "1", "b", "2"] },
        // an optional-only format and only pairs
        { "{{x=d}}", "a=1", ["x", "d", "a", "1"] },
        // an optional-only format and an empty command
        { "{{x=d}}", "", ["x", "d"] },
        // an empty format matches only blank commands
        { "", "   ", [] },
        // an empty format does not match words
        { "", "x", null },
        // a whitespace-only format and an empty command: no value supplied
        { "  ", "", null },
        // a regex group that matched nothing and no other value: no value supplied
        { "(?P<x>a)?", "", null },
        // a regex group that matched nothing is left out
        { "(?P<x>a)?", "b=1", ["b", "1"] },
        // '.' in a literal part matches any character
        { "1.2 {{x}}", "1x2 q", ["x", "q"] },
        // an escaped dot is a literal dot
        { "v1\\.2 {{x}}", "v1.2 q", ["x", "q"] },
        // 's?' makes a letter optional
        { "deploys? {{app}}", "deploy web", ["app", "web"] },
        // a capturing group without a name is not a parameter
        { "(show|list) hosts", "list hosts", [] },
        // a top-level '|' splits the whole format in two
        { "foo|bar {{x}}", "zzz bar q", ["x", "q"] },
        // a ^ in the second branch of a group stops StackStorm adding its own ^
        { "foo (?:x|^)bar", "zzz foo xbar", [] },
        // a ^ only in the first branch is not seen, so the format is anchored
        { "foo (?:^|x)bar", "zzz foo xbar", null },
        // \A counts as a beginning anchor
        { "\\Afoo {{x}}", "foo q", null },
        // \Z counts as an end anchor, so trailing spaces join the value
        { "foo {{x}}\\Z", "foo q", ["x", "q "] },
        // a bare $ never matches: StackStorm pads the command with a space before searching
        { "deploy now$", "deploy now", null },
        // \s*$ is how a format ends with its own anchor
        { "deploy now\\s*$", "deploy now", [] },
        // (?i) applies to the whole format
        { "(?i)deploy {{app}}", "DEPLOY web", ["app", "web"] },
        // a scoped (?i:...) applies inside it only
        { "(?i:deploy) {{app}}", "DePloy web", ["app", "web"] },
        // verbose mode ignores spaces in the format
        { "(?x) deploy \\  {{app}}", "deploy web", ["app", "web"] },
        // in verbose mode a trailing comment swallows the added \s*$
        { "(?x)deploy\\ {{app}}  # comment", "deploy web", ["app", "w"] },
        // {,2} is a quantifier in Python
        { "a{,2}b", "aab", [] },
        // a brace that is not a quantifier is literal
        { "a{1,2", "a{1,2", [] },
        // a named back-reference
        { "(?P<a>x)(?P=a) {{b}}", "xx q", ["a", "x", "b", "q"] },
        // a conditional on a named group
        { "(?P<a>x)?(?(a)y|z)", "xy", ["a", "x"] },
        // \d and \w
        { "\\d+ \\w+ items", "42 abc_1 items", [] },
        // \x, \u and \U escapes
        { "\\x41\\u0042\\U00000043 {{x}}", "ABC q", ["x", "q"] },
        // [^\S] is Python whitespace
        { "[^\\S]x", " x", [] },
        // a non-ASCII format and text
        { "部署 {{app}} 到 {{env}}", "部署 booking 到 生产", ["app", "booking", "env", "生产"] },
        // an emoji repeated by a quantifier
        { "😀+ {{x}}", "😀😀 y", ["x", "y"] },
        // accented literal
        { "déployer {{app}}", "déployer web", ["app", "web"] },
        // NUL and BEL inside a value are kept
        { "run {{cmd}}", "run a\u0000b\u0007c", ["cmd", "a\u0000b\u0007c"] },
        // a unit separator is whitespace to Python but not the format's space
        { "run {{cmd}}", "run\u001Fls", null },
        // a trailing unit separator is trimmed like a space
        { "run {{cmd}}", "run ls\u001F", ["cmd", "ls"] },
        // a leading unit separator is trimmed like a space
        { "run {{cmd}}", "\u001Frun ls", ["cmd", "ls"] },
        // a no-break space is not the format's space
        { "run {{cmd}}", "run\u00A0ls", null },
        // a zero-width space is not whitespace and stays in the value
        { "run {{cmd}}", "run \u200Bls", ["cmd", "\u200Bls"] },
        // CRLF at the end is trimmed
        { "run {{cmd}}", "run ls\r\n", ["cmd", "ls"] },
        // a newline inside the value is kept
        { "run {{cmd}}", "run l\ns", ["cmd", "l\ns"] },
    };

    /// <summary>Hostile chat text: control characters, unbalanced quotes, broken pairs, bidi and combining marks.</summary>
    public static TheoryData<string, string, string[]?> Hostile => new()
    {
        // a text of control characters only
        { "{{x}}", "\u0000\u0007\u0008", ["x", "\u0000\u0007\u0008"] },
        // three double quotes then three single quotes
        { "say {{msg}}", "say \"\"\"'''", ["msg", "\"\"''"] },
        // an empty pair of single quotes as the value
        { "say {{msg}}", "say ''", ["msg", "'"] },
        // an empty pair of double quotes as the value
        { "say {{msg}}", "say \"\"", ["msg", "\""] },
        // unbalanced quotes in pair values
        { "foo", "foo a=\"\"\" b='", ["a", "", "b", "'"] },
        // a right-to-left override is kept in the value
        { "run {{cmd}}", "run ‮evil", ["cmd", "‮evil"] },
        // a combining accent stays with its letter
        { "run {{cmd}}", "run é", ["cmd", "é"] },
        // '=' with no key is not a pair
        { "foo", "foo =", null },
        // '=1' with no key is not a pair
        { "foo", "foo =1", null },
        // a keyless pair after a good one ends the run
        { "foo", "foo a=1 =2", ["a", "1"] },
        // an empty value in the middle of pairs ends the run
        { "foo", "foo a=1 a= a=3", null },
        // a brace inside a quoted JSON value ends the blob early
        { "foo", "foo a={\"x\": \"}\"}", ["a", "{\"x\": \"}"] },
        // a template-looking value is passed on as typed
        { "run {{cmd}}", "run {{ evil }}", ["cmd", "{{ evil }}"] },
        // NUL before '=' makes a key with NUL in it
        { "run {{cmd}}", "run x\u0000=1", null },
        // the example of the brief: Chinese words
        { "部署 {{app}} 到 {{env}}", "部署 booking 到 生产", ["app", "booking", "env", "生产"] },
        // a key made of non-ASCII letters
        { "foo", "foo 環境=生产", ["環境", "生产"] },
        // a lone quote as the whole value
        { "say {{msg}}", "say \"", ["msg", " "] },
    };
}
