using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Packs;

public sealed class PackLoaderTests : IDisposable
{
    /// <summary>A loader that knows the shipped runners' names; the runners themselves are tested in their own project.</summary>
    private static readonly PackLoader Loader = new(
        new OpsRobot.Core.Actions.RunnerCatalog([new Support.NamedRunner("shell"), new Support.NamedRunner("script"), new Support.NamedRunner("http"), new Support.NamedRunner("noop"), new Support.NamedRunner("echo"),
            new Support.NamedRunner("ssh"), new Support.NamedRunner("ssh-trust"), new Support.NamedRunner("deploy"), new Support.NamedRunner("nagios"), new Support.NamedRunner("inquiry")]),
        new OpsRobot.Core.Templates.TemplateRenderer());

    private readonly TempDirectory _packs = new("opsrobot-packs");

    public void Dispose() => _packs.Dispose();

    private static string GoodManifest(string name) => $"name: {name}\nversion: 1.0.0\ndescription: A pack for the tests.\n";

    [Fact]
    public void LoadAll_ShippedPacks_LoadsCoreWithoutErrors()
    {
        var result = Loader.LoadAll(RepoPaths.Packs);

        result.Errors.ShouldBeEmpty();
        result.Packs.Select(p => p.Name).ShouldBe(["alerts", "cmdb", "core", "deploy", "examples", "nagios", "ssh"]);
        result.Actions.Keys.ShouldContain("core.local");
        result.Aliases.Select(a => a.Ref).ShouldContain("examples.dns");
        var core = result.Packs.Single(p => p.Name == "core");
        core.Name.ShouldBe("core");
        core.Version.ShouldBe("0.1.0");
        core.Description.ShouldContain("ping");
        core.Author.ShouldBe("OpsRobot");
        core.Keywords.ShouldBe(["core", "chatops"]);
        core.Directory.ShouldBe(Path.Combine(RepoPaths.Packs, "core"));
    }

    [Fact]
    public void LoadOne_RefField_OverridesName()
    {
        _packs.Write("p/pack.yaml", "ref: deploy_tools\nname: Deploy Tools\nversion: 2\ndescription: d\nemail: ops@example.com\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        errors.ShouldBeEmpty();
        pack.ShouldNotBeNull().Pack.Name.ShouldBe("deploy_tools");
        pack.Pack.Email.ShouldBe("ops@example.com");
    }

    [Fact]
    public void LoadOne_YamlSyntaxError_PointsAtTheOffendingColon()
    {
        var file = _packs.Write("broken/pack.yaml", "name: broken\nversion: 1.0.0\ndescription: a: b\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("broken"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        (error.File, error.Line, error.Column).ShouldBe((file, 3, 15));
        error.ToString().ShouldStartWith($"{file}:3:15: ");
    }

    [Fact]
    public void LoadOne_DuplicateKey_IsAnErrorAtTheSecondKey()
    {
        var file = _packs.Write("dup/pack.yaml", "name: dup\nversion: 1.0.0\ndescription: one\nversion: 2.0.0\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("dup"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        (error.File, error.Line, error.Column).ShouldBe((file, 4, 1));
    }

    [Theory]
    [InlineData("name", "# a pack without a name\nversion: 1.0.0\ndescription: d\n")]
    [InlineData("version", "# a pack without a version\nname: nover\ndescription: d\n")]
    [InlineData("description", "# a pack without a description\nname: nodesc\nversion: 1.0.0\n")]
    public void LoadOne_MissingRequiredField_ErrorNamesItAtTheStartOfTheMapping(string field, string yaml)
    {
        var file = _packs.Write("p/pack.yaml", yaml);

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.ToString().ShouldBe($"{file}:2:1: missing required field '{field}'");
    }

    [Fact]
    public void LoadOne_SeveralFieldsMissing_ReportsEveryOne()
    {
        _packs.Write("p/pack.yaml", "author: someone\n");

        var (_, errors) = Loader.LoadOne(_packs.Combine("p"));

        errors.Select(e => e.Message).ShouldBe(
            ["missing required field 'name'", "missing required field 'version'", "missing required field 'description'"]);
    }

    [Theory]
    [InlineData("capitals and a dash", "Bad-Name")]
    [InlineData("a space", "bad name")]
    [InlineData("a path", "../etc")]
    [InlineData("65 characters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void LoadOne_InvalidPackName_ErrorAtTheNameValue(string row, string name)
    {
        var file = _packs.Write("p/pack.yaml", $"version: 1.0.0\nname: {name}\ndescription: d\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull(row);
        var error = errors.ShouldHaveSingleItem(row);
        (error.File, error.Line, error.Column).ShouldBe((file, 2, 7), row);
        error.Message.ShouldContain("is not valid", customMessage: row);
    }

    [Theory]
    [InlineData("empty name", "version: 1.0.0\nname: ''\ndescription: d\n", "name", 2)]
    [InlineData("blank version", "version:\nname: p\ndescription: d\n", "version", 1)]
    public void LoadOne_EmptyRequiredField_ErrorNamesTheField(string row, string yaml, string field, int line)
    {
        var file = _packs.Write("p/pack.yaml", yaml);

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull(row);
        var error = errors.ShouldHaveSingleItem(row);
        (error.File, error.Line).ShouldBe((file, line), row);
        error.Message.ShouldBe($"field '{field}' is empty", row);
    }

    [Fact]
    public void LoadOne_NameIsAList_ErrorAtTheList()
    {
        var file = _packs.Write("p/pack.yaml", "version: 1.0.0\ndescription: d\nname:\n  - a\n  - b\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        (error.File, error.Line, error.Column).ShouldBe((file, 4, 3));
        error.Message.ShouldBe("field 'name' must be a single value");
    }

    [Fact]
    public void LoadOne_KeywordsNotAList_PackLeftOutWhole()
    {
        var file = _packs.Write("p/pack.yaml", "name: p\nversion: 1.0.0\ndescription: d\nkeywords: deploy\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull();
        errors.ShouldHaveSingleItem().ToString().ShouldBe($"{file}:4:11: field 'keywords' must be a list");
    }

    [Fact]
    public void LoadOne_DeeplyNestedValue_RefusedWithAnErrorAtIt()
    {
        // 1,000 levels is 2 KB of brackets. The recursive YAML loader needs stack for every level: a few thousand
        // levels, still far under MaxFileBytes, overflow a 1.5 MB thread stack and end the process, which no catch
        // can stop. The loader must refuse such nesting before building the tree. (Deeper rows would crash the test
        // host itself, so this one stays at a depth the current loader survives.)
        var file = _packs.Write("deep/pack.yaml", "name: deep\nversion: 1\ndescription: d\nkeywords: " + new string('[', 1000) + new string(']', 1000) + "\n");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("deep"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.File.ShouldBe(file);
        error.Line.ShouldBe(4);
    }

    [Theory]
    [InlineData("a list", "- name\n- version\n")]
    [InlineData("a single word", "core\n")]
    [InlineData("an empty file", "")]
    [InlineData("only a comment", "# nothing here\n")]
    public void LoadOne_DocumentNotAMapping_ErrorAtTheStart(string row, string yaml)
    {
        var file = _packs.Write("p/pack.yaml", yaml);

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull(row);
        errors.ShouldHaveSingleItem(row).ToString().ShouldBe($"{file}:1:1: expected a mapping of fields (name, version, description)", row);
    }

    [Fact]
    public void LoadOne_NoPackYaml_ErrorNamesTheMissingFile()
    {
        _packs.Write("p/README.md", "# not a manifest\n");
        var file = _packs.Combine("p", "pack.yaml");

        var (pack, errors) = Loader.LoadOne(_packs.Combine("p"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.File.ShouldBe(file);
        error.ToString().ShouldStartWith($"{file}: missing pack.yaml");
    }

    [Fact]
    public void LoadOne_FileOverTheLimit_RefusedWithoutParsing()
    {
        var file = _packs.Write("big/pack.yaml", GoodManifest("big"));
        File.AppendAllText(file, "#" + new string('x', (int)PackLoader.MaxFileBytes));

        var (pack, errors) = Loader.LoadOne(_packs.Combine("big"));

        pack.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.File.ShouldBe(file);
        error.Message.ShouldContain("pack files are limited to 1,048,576");
    }

    [Fact]
    public void LoadOne_FileExactlyAtTheLimit_Loads()
    {
        var file = _packs.Write("big/pack.yaml", GoodManifest("big"));
        var padding = PackLoader.MaxFileBytes - new FileInfo(file).Length - 2;
        File.AppendAllText(file, "#" + new string('x', (int)padding) + "\n");
        new FileInfo(file).Length.ShouldBe(PackLoader.MaxFileBytes);

        var (pack, errors) = Loader.LoadOne(_packs.Combine("big"));

        errors.ShouldBeEmpty();
        pack.ShouldNotBeNull().Pack.Name.ShouldBe("big");
    }

    [Fact]
    public void LoadAll_TwoPacksWithTheSameName_FirstKeptSecondRefused()
    {
        _packs.Write("a_first/pack.yaml", GoodManifest("dup"));
        var second = _packs.Write("b_second/pack.yaml", GoodManifest("dup"));

        var result = Loader.LoadAll(_packs.Path);

        result.Packs.ShouldHaveSingleItem().Directory.ShouldBe(_packs.Combine("a_first"));
        var error = result.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe(second);
        error.Message.ShouldContain("'dup' is already used by " + _packs.Combine("a_first"));
    }

    [Fact]
    public void LoadAll_BrokenPackBesideGoodOnes_GoodOnesStillLoad()
    {
        using var home = new TestHome(withShippedPacks: true);
        home.Write("packs/aaa_broken/pack.yaml", "name: aaa_broken\nversion: [1.0\n");
        home.Write("packs/no_manifest/actions/run.sh", "echo hi\n");
        home.Write("packs/zzz_good/pack.yaml", GoodManifest("zzz_good"));

        var result = Loader.LoadAll(home.PacksDir);

        result.Packs.Select(p => p.Name).ShouldBe(["alerts", "cmdb", "core", "examples", "nagios", "zzz_good"]);
        result.Errors.Select(e => Path.GetFileName(Path.GetDirectoryName(e.File))).ShouldBe(["aaa_broken", "no_manifest"]);
    }

    [Fact]
    public void LoadAll_HiddenFolder_IsSkipped()
    {
        _packs.Write(".git/pack.yaml", "not: [valid\n");
        _packs.Write("ops/pack.yaml", GoodManifest("ops"));

        var result = Loader.LoadAll(_packs.Path);

        result.Errors.ShouldBeEmpty();
        result.Packs.ShouldHaveSingleItem().Name.ShouldBe("ops");
    }

    [Fact]
    public void LoadAll_MissingPacksFolder_ErrorNamesTheFolder()
    {
        var missing = _packs.Combine("does-not-exist");

        var result = Loader.LoadAll(missing);

        result.Packs.ShouldBeEmpty();
        result.Errors.ShouldHaveSingleItem().ToString().ShouldBe($"{missing}: the packs folder does not exist");
    }

    [Fact]
    public async Task PackCatalog_ErrorsWhileLoading_StatusDegradedWithTheFirstError()
    {
        _packs.Write("ops/pack.yaml", GoodManifest("ops"));
        var broken = _packs.Write("web/pack.yaml", "name: Web\nversion: 1\ndescription: d\n");
        var catalog = new PackCatalog(Loader);

        catalog.Load(_packs.Path);
        var status = await catalog.GetStatusAsync(CancellationToken.None);

        status.Component.ShouldBe("packs");
        status.State.ShouldBe(HealthState.Degraded);
        status.Detail.ShouldBe($"1 loaded (ops 1.0.0), 0 action(s), 0 alias(es); 1 error(s), first: {broken}:1:7: pack name 'Web' is not valid: use lowercase letters, digits and underscores (at most 64)");
    }

    [Fact]
    public async Task PackCatalog_ReloadAfterFix_BecomesHealthy()
    {
        var file = _packs.Write("web/pack.yaml", "name: Web\nversion: 1\ndescription: d\n");
        var catalog = new PackCatalog(Loader);
        catalog.Load(_packs.Path);
        File.WriteAllText(file, "name: web\nversion: 1\ndescription: d\n");

        var result = catalog.Load(_packs.Path);
        var status = await catalog.GetStatusAsync(CancellationToken.None);

        catalog.Current.ShouldBeSameAs(result);
        status.State.ShouldBe(HealthState.Healthy);
        status.Detail.ShouldBe("1 loaded (web 1), 0 action(s), 0 alias(es)");
    }
}
