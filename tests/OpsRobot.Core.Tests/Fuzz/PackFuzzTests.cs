using System.Text;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Fuzz;

/// <summary>
/// Pack files are YAML from whoever can write to the packs folder (or a pack downloaded from elsewhere): whatever
/// they hold, loading ends with the pack or with errors that name the file, never an exception, never a hang.
/// </summary>
public sealed class PackFuzzTests : IDisposable
{
    private static readonly PackLoader Loader = new(
        new RunnerCatalog([new NamedRunner("shell"), new NamedRunner("noop"), new NamedRunner("http")]), new TemplateRenderer());

    private static readonly (string Path, string Text)[] Seeds =
    [
        ("pack.yaml", "name: p\nversion: 1.0.0\ndescription: d\n"),
        ("actions/deploy.yaml", """
            name: deploy
            runner_type: shell
            description: Deploy it
            timeout: 30
            parameters:
              app: {type: string, required: true, description: The app}
              count: {type: integer, default: 2}
              env: {type: string, enum: [staging, prod], default: staging}
              token: {type: string, secret: true}
              cmd: {immutable: true, default: "echo {{ app }} {{ count }}"}
            """),
        ("aliases/deploy.yaml", """
            name: deploy
            action_ref: p.deploy
            description: Deploy
            formats:
              - display: "deploy <app> to <env>"
                representation: ["deploy {{ app }} to {{ env=staging }}"]
            ack: {format: "Deploying {{ execution.parameters.app }}"}
            result: {format: "{% if execution.status == 'succeeded' %}done{% endif %}"}
            """),
        ("rules/down.yaml", """
            name: down
            trigger: {type: core.webhook, parameters: {url: mon}}
            criteria:
              trigger.body.state: {type: iequals, pattern: down}
            action:
              ref: p.deploy
              parameters: {app: "{{ trigger.body.host }}"}
            """),
        ("policies/deploy.yaml", """
            name: deploy.concurrency
            resource_ref: p.deploy
            policy_type: action.concurrency
            parameters: {threshold: 1, action: delay}
            """),
    ];

    private static readonly string[] Tokens =
    [
        "\n", "\n  ", ": ", "- ", "{", "}", "[", "]", ", ", "&a ", "*a", "<<: *a", "!!str ", "!!binary ", "!custom ", "? ", "|",
        ">", "'", "\"", "#", "---\n", "...\n", "%YAML 1.2\n", "\t", "null", "~", "true", "1e999", "-1", "0x10", "name", "type",
        "parameters", "default", "required", "immutable", "secret", "formats", "runner_type", "action_ref", "{{", "}}", "\\",
    ];

    private readonly TempDirectory _packs = new("opsrobot-pack-fuzz");

    public void Dispose() => _packs.Dispose();

    [Fact]
    public void LoadOne_MutatedPackFiles_LoadOrFailWithErrorsNamingTheFile()
    {
        var ran = Fuzzer.Run(21, 1500,
            random =>
            {
                var files = Seeds.ToDictionary(s => s.Path, s => s.Text, StringComparer.Ordinal);
                var victim = Seeds[random.Next(Seeds.Length)].Path;
                files[victim] = Fuzzer.Mutate(random, files[victim], Tokens);
                return files;
            },
            files => Check(files, "mutated pack"),
            files => string.Join("\n", files.Select(f => $"--- {f.Key}\n{f.Value}")));

        ran.ShouldBeGreaterThan(50, "too few cases ran within the time budget to mean anything");
    }

    [Theory]
    [InlineData("billion laughs: aliases of aliases", "laughs")]
    [InlineData("deep flow nesting", "deep-flow")]
    [InlineData("deep block nesting", "deep-block")]
    [InlineData("huge scalar beyond the file limit", "huge")]
    [InlineData("a big but allowed scalar as a default", "big-default")]
    [InlineData("every field of the wrong type", "wrong-types")]
    [InlineData("bytes that are not UTF-8", "bad-utf8")]
    [InlineData("a document that is a bare list", "list")]
    [InlineData("many documents in one file", "multi")]
    [InlineData("an alias to an undefined anchor", "undefined-anchor")]
    [InlineData("a merge key of a scalar", "bad-merge")]
    [InlineData("a recursive alias", "recursive")]
    public void LoadOne_HostileActionFile_IsRefusedWithAClearErrorInBoundedTime(string row, string kind)
    {
        var files = Seeds.ToDictionary(s => s.Path, s => s.Text, StringComparer.Ordinal);
        files["actions/deploy.yaml"] = kind switch
        {
            "laughs" => Laughs(),
            "deep-flow" => "name: deploy\nrunner_type: shell\nparameters: " + new string('[', 50_000) + new string(']', 50_000) + "\n",
            "deep-block" => "name: deploy\nrunner_type: shell\nparameters:\n" + string.Concat(Enumerable.Range(1, 3000).Select(i => new string(' ', i) + "k:\n")),
            "huge" => "name: deploy\nrunner_type: shell\ndescription: \"" + new string('x', (int)PackLoader.MaxFileBytes + 10) + "\"\n",
            "big-default" => "name: deploy\nrunner_type: shell\nparameters:\n  cmd: {immutable: true, default: \"" + new string('x', 500_000) + "\"}\n",
            "wrong-types" => "name: [1, 2]\nrunner_type: {a: b}\ntimeout: forever\nenabled: maybe\nparameters: [1, 2, 3]\ndescription: {x: y}\n",
            "bad-utf8" => "name: deploy\nrunner_type: shell\ndescription: \"\udcff\ud800 \u0000 \u001b[31m\"\n",
            "list" => "- name: deploy\n- runner_type: shell\n",
            "multi" => string.Concat(Enumerable.Repeat("---\nname: deploy\nrunner_type: shell\n", 1000)),
            "undefined-anchor" => "name: *nowhere\nrunner_type: shell\n",
            "bad-merge" => "a: &a 1\nname: deploy\nrunner_type: shell\nparameters:\n  <<: *a\n",
            "recursive" => "name: deploy\nrunner_type: shell\nparameters: &p\n  x: *p\n",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (kind == "bad-utf8")
        {
            Directory.CreateDirectory(_packs.Combine("p", "actions"));
            File.WriteAllBytes(_packs.Combine("p", "actions", "deploy.yaml"), [.. "name: deploy\nrunner_type: shell\ndescription: "u8, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, (byte)'\n']);
            files.Remove("actions/deploy.yaml");
        }

        var ran = Fuzzer.Run(0, 1, _ => files, f => Check(f, row, keepExisting: kind == "bad-utf8"), f => row);

        ran.ShouldBe(1);
        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));
        // A big default is allowed; bytes that are not UTF-8 are read as U+FFFD, as .NET reads any text file.
        if (kind is not ("big-default" or "bad-utf8"))
        {
            pack.ShouldBeNull(row);
            errors.ShouldContain(e => e.File.Contains("deploy.yaml", StringComparison.Ordinal), row + ": " + string.Join("; ", errors));
        }
    }

    private void Check(Dictionary<string, string> files, string row, bool keepExisting = false)
    {
        if (!keepExisting && Directory.Exists(_packs.Combine("p")))
        {
            Directory.Delete(_packs.Combine("p"), recursive: true);
        }

        foreach (var (path, text) in files)
        {
            // Lone surrogates cannot be stored as UTF-8; the lenient encoder writes U+FFFD for them, as an editor would.
            var full = _packs.Combine("p", path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        }

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));
        if (pack is null)
        {
            errors.ShouldNotBeEmpty($"{row}: no pack and no error");
        }

        foreach (var error in errors)
        {
            error.File.ShouldNotBeNullOrWhiteSpace(row);
            Fuzzer.ShouldBeClear(error.Message, row);
        }
    }

    /// <summary>YAML's classic bomb: each level refers to the one before nine times, 9^9 nodes once expanded.</summary>
    private static string Laughs()
    {
        var sb = new StringBuilder("name: deploy\nrunner_type: shell\nx0: &x0 [\"lol\"]\n");
        for (var i = 1; i <= 9; i++)
        {
            sb.Append($"x{i}: &x{i} [").Append(string.Join(", ", Enumerable.Repeat($"*x{i - 1}", 9))).Append("]\n");
        }

        sb.Append("parameters:\n  bomb: {default: *x9}\n");
        return sb.ToString();
    }
}
