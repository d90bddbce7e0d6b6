using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Packs;

/// <summary>Actions, aliases and policies in pack files: what loads, and where every error points.</summary>
public sealed class PackLoaderActionTests : IDisposable
{
    private static readonly PackLoader Loader = new(
        new RunnerCatalog([new NamedRunner("shell"), new NamedRunner("noop")]), new TemplateRenderer());

    private readonly TempDirectory _packs = new("opsrobot-packs");

    public PackLoaderActionTests() => _packs.Write("p/pack.yaml", "name: p\nversion: 1.0.0\ndescription: d\n");

    public void Dispose() => _packs.Dispose();

    private (LoadedPack? Pack, IReadOnlyList<PackError> Errors) Load() => Loader.LoadOne(_packs.Combine("p"));

    [Fact]
    public void LoadOne_FullAction_EveryFieldRead()
    {
        _packs.Write("p/actions/deploy.yaml", """
            name: deploy
            runner_type: shell
            description: Deploy it
            timeout: 30
            parameters:
              app: {type: string, required: true, description: The app}
              count: {type: integer, default: 2}
              env: {type: string, enum: [staging, prod], default: staging}
              token: {type: string, secret: true}
              flags: {default: [a, b]}
              cmd: {immutable: true, default: "echo {{ app }}"}
            """);

        var (pack, errors) = Load();

        errors.ShouldBeEmpty();
        var action = pack.ShouldNotBeNull().Actions.ShouldHaveSingleItem();
        action.Ref.ShouldBe("p.deploy");
        action.Timeout.ShouldBe(TimeSpan.FromSeconds(30));
        action.Parameters.Select(p => (p.Name, p.Type)).ShouldBe([
            ("app", ParameterType.String), ("count", ParameterType.Integer), ("env", ParameterType.String),
            ("token", ParameterType.String), ("flags", ParameterType.Array), ("cmd", ParameterType.String)]);
        action.Parameters[0].Required.ShouldBeTrue();
        action.Parameters[1].Default!.GetValue<long>().ShouldBe(2);
        action.Parameters[2].Enum!.Select(e => e!.GetValue<string>()).ShouldBe(["staging", "prod"]);
        action.Parameters[3].Secret.ShouldBeTrue();
        action.Parameters[5].Immutable.ShouldBeTrue();
    }

    [Theory]
    [InlineData("unknown runner", "name: a\nrunner_type: teleport\n", 2, 14, "unknown runner_type 'teleport'")]
    [InlineData("missing runner", "name: a\ndescription: d\n", 1, 1, "missing required field 'runner_type'")]
    [InlineData("bad name", "name: 'a b'\nrunner_type: noop\n", 1, 7, "action name 'a b' is not valid")]
    [InlineData("unknown type", "name: a\nrunner_type: noop\nparameters:\n  x: {type: float}\n", 4, 13, "unknown type 'float'")]
    [InlineData("default of the wrong type", "name: a\nrunner_type: noop\nparameters:\n  n:\n    type: integer\n    default: lots\n", 6, 14, "the default of parameter 'n' does not fit it")]
    [InlineData("default outside the enum", "name: a\nrunner_type: noop\nparameters:\n  e: {type: string, enum: [x, y], default: z}\n", 4, 44, "must be one of")]
    [InlineData("two parameters at one position", "name: a\nrunner_type: noop\nparameters:\n  a: {type: string, position: 0}\n  b: {type: string, position: 0}\n", 5, 31, "position 0, already taken by 'a'")]
    [InlineData("timeout not a number", "name: a\nrunner_type: noop\ntimeout: soon\n", 3, 10, "field 'timeout' must be a whole number")]
    [InlineData("pack field disagrees", "name: a\npack: other\nrunner_type: noop\n", 2, 7, "field 'pack' says 'other'")]
    public void LoadOne_BadAction_ErrorAtItsPlace(string row, string yaml, int line, int column, string message)
    {
        var file = _packs.Write("p/actions/a.yaml", yaml);

        var (pack, errors) = Load();

        pack.ShouldBeNull(row);
        var error = errors.ShouldHaveSingleItem(row);
        (error.File, error.Line, error.Column).ShouldBe((file, line, column), row);
        error.Message.ShouldContain(message, Case.Sensitive, row);
    }

    [Fact]
    public void LoadOne_OneBadFileAmongGoodOnes_RefusesTheWholePack()
    {
        _packs.Write("p/actions/good.yaml", "name: good\nrunner_type: noop\n");
        _packs.Write("p/actions/bad.yaml", "name: bad\nrunner_type: [noop\n");

        var (pack, errors) = Load();

        pack.ShouldBeNull();
        errors.ShouldHaveSingleItem().File.ShouldEndWith("bad.yaml");
    }

    [Fact]
    public void LoadOne_AliasWithDisplayRepresentationsAndTemplates_Loads()
    {
        _packs.Write("p/actions/deploy.yaml", "name: deploy\nrunner_type: noop\nparameters:\n  app: {type: string}\n");
        _packs.Write("p/aliases/deploy.yaml", """
            name: deploy
            action_ref: p.deploy
            description: Deploy
            formats:
              - "deploy {{ app }}"
              - display: "ship <app>"
                representation: ["ship {{ app }}", "ship it {{ app }}"]
            immutable_parameters: {env: prod}
            ack: {enabled: false}
            result: {format: "{{ execution.status }}"}
            """);

        var (pack, errors) = Load();

        errors.ShouldBeEmpty();
        var alias = pack!.Aliases.ShouldHaveSingleItem();
        alias.Formats.Select(f => f.Display).ShouldBe(["deploy <app>", "ship <app>"]);
        alias.Formats[1].Representations.ShouldBe(["ship {{ app }}", "ship it {{ app }}"]);
        alias.ImmutableParameters["env"]!.GetValue<string>().ShouldBe("prod");
        alias.AckEnabled.ShouldBeFalse();
        alias.ResultFormat.ShouldBe("{{ execution.status }}");
    }

    [Theory]
    [InlineData("unclosed parameter", "name: a\naction_ref: p.x\nformats: [\"deploy {{ app\"]\n", 3, 11, "does not parse")]
    [InlineData("no formats", "name: a\naction_ref: p.x\nformats: []\n", 3, 10, "needs at least one format")]
    [InlineData("template syntax error", "name: a\naction_ref: p.x\nformats: [go]\nresult:\n  format: \"{{ execution.id \"\n", 5, 11, "result format does not parse")]
    [InlineData("action_ref without a pack", "name: a\naction_ref: deploy\nformats: [go]\n", 2, 13, "must be pack.action")]
    public void LoadOne_BadAlias_ErrorAtItsPlace(string row, string yaml, int line, int column, string message)
    {
        _packs.Write("p/actions/x.yaml", "name: x\nrunner_type: noop\n");
        var file = _packs.Write("p/aliases/a.yaml", yaml);

        var (pack, errors) = Load();

        pack.ShouldBeNull(row);
        var error = errors.ShouldHaveSingleItem(row);
        (error.File, error.Line).ShouldBe((file, line), row);
        error.Column.ShouldBeGreaterThanOrEqualTo(column, row);
        error.Message.ShouldContain(message, Case.Sensitive, row);
    }

    [Fact]
    public void LoadAll_AliasPointingAtAMissingAction_RefusesItsPack()
    {
        _packs.Write("p/aliases/a.yaml", "name: a\naction_ref: nowhere.x\nformats: [go]\n");
        _packs.Write("q/pack.yaml", "name: q\nversion: 1\ndescription: d\n");

        var result = Loader.LoadAll(_packs.Path);

        result.Packs.Select(p => p.Name).ShouldBe(["q"]);
        result.Errors.ShouldHaveSingleItem().Message.ShouldContain("runs action 'nowhere.x', which no loaded pack has");
    }

    [Fact]
    public void LoadOne_Policies_ApplyToTheirAction()
    {
        _packs.Write("p/actions/a.yaml", "name: a\nrunner_type: noop\n");
        _packs.Write("p/policies/c.yaml", "name: c\nresource_ref: p.a\npolicy_type: action.concurrency\nparameters: {threshold: 2, action: cancel}\n");
        _packs.Write("p/policies/r.yaml", "name: r\nresource_ref: p.a\npolicy_type: action.retry\nparameters: {retry_on: timeout, max_retry_count: 3, delay: 5}\n");

        var (pack, errors) = Load();

        errors.ShouldBeEmpty();
        var policies = pack!.Actions.Single().Policies;
        policies.ConcurrencyLimit.ShouldBe(2);
        policies.ConcurrencyMode.ShouldBe(ConcurrencyMode.Refuse);
        policies.RetryCount.ShouldBe(3);
        policies.RetryOnTimeout.ShouldBeTrue();
        policies.RetryOnFailure.ShouldBeFalse();
        policies.RetryDelay.ShouldBe(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void LoadOne_PolicyForAnotherPacksAction_IsAnError()
    {
        _packs.Write("p/actions/a.yaml", "name: a\nrunner_type: noop\n");
        var file = _packs.Write("p/policies/c.yaml", "name: c\nresource_ref: other.a\npolicy_type: action.concurrency\nparameters: {threshold: 2}\n");

        var (pack, errors) = Load();

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        (error.File, error.Line).ShouldBe((file, 2));
        error.Message.ShouldContain("not an action of pack p");
    }

    [Fact]
    public void PackCatalog_ReloadWithABrokenPack_KeepsItsPreviousVersion()
    {
        var action = _packs.Write("p/actions/a.yaml", "name: a\nrunner_type: noop\n");
        var catalog = new PackCatalog(Loader);
        catalog.Load(_packs.Path);

        File.WriteAllText(action, "name: a\nrunner_type: [\n");
        var reloaded = catalog.Load(_packs.Path);

        reloaded.FindAction("p.a").ShouldNotBeNull();
        reloaded.KeptPrevious.ShouldBe(["p"]);
        reloaded.Errors.ShouldHaveSingleItem().File.ShouldBe(action);
    }

    [Fact]
    public void PackCatalog_Reload_SwapsTheSnapshotWhole()
    {
        _packs.Write("p/actions/a.yaml", "name: a\nrunner_type: noop\n");
        var catalog = new PackCatalog(Loader);
        var before = catalog.Load(_packs.Path);
        _packs.Write("p/actions/b.yaml", "name: b\nrunner_type: noop\n");

        var after = catalog.Load(_packs.Path);

        before.Actions.Keys.ShouldBe(["p.a"]);          // the old snapshot is untouched
        after.Actions.Keys.Order().ShouldBe(["p.a", "p.b"]);
        catalog.Current.ShouldBeSameAs(after);
    }

    [Fact]
    public void LoadOne_YamlValues_KeepTheirTypes()
    {
        _packs.Write("p/actions/a.yaml", "name: a\nrunner_type: noop\nparameters:\n  s: {default: '42'}\n  n: {default: 42}\n  f: {default: 4.5}\n  b: {default: yes}\n  o: {default: {k: v}}\n");

        var (pack, _) = Load();

        var defaults = pack!.Actions.Single().Parameters.ToDictionary(p => p.Name, p => p.Default);
        defaults["s"]!.GetValue<string>().ShouldBe("42");
        defaults["n"]!.GetValue<long>().ShouldBe(42);
        defaults["f"]!.GetValue<double>().ShouldBe(4.5);
        defaults["o"].ShouldBeOfType<JsonObject>();
    }
}
