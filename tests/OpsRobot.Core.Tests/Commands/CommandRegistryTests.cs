using OpsRobot.Core.Commands;
using OpsRobot.Core.Tests.Support;

namespace OpsRobot.Core.Tests.Commands;

public sealed class CommandRegistryTests
{
    [Fact]
    public void Constructor_TwoCommandsWithTheSameName_ThrowsNamingBothPacks()
    {
        IRobotCommand[] commands = [new TestCommand("core", "deploy"), new TestCommand("k8s", "Deploy")];

        var ex = Should.Throw<InvalidOperationException>(() => new CommandRegistry(commands));

        ex.Message.ShouldContain("'core'");
        ex.Message.ShouldContain("'k8s'");
        ex.Message.ShouldContain("Deploy", Case.Insensitive);
    }

    [Theory]
    [InlineData("same case", "status")]
    [InlineData("capitals", "STATUS")]
    [InlineData("mixed case", "StAtUs")]
    public void Find_AnyCase_FindsTheCommand(string row, string name)
    {
        var registry = new CommandRegistry([new TestCommand("core", "status"), new TestCommand("core", "ping")]);

        var found = registry.Find(name);

        found.ShouldNotBeNull(row).Info.Name.ShouldBe("status", row);
    }

    [Fact]
    public void Find_UnknownName_ReturnsNull()
    {
        var registry = new CommandRegistry([new TestCommand("core", "status")]);

        registry.Find("stat").ShouldBeNull();
    }

    [Fact]
    public void All_CommandsFromSeveralPacks_OrderedByPackThenName()
    {
        var registry = new CommandRegistry(
        [
            new TestCommand("ops", "rollback"),
            new TestCommand("core", "ping"),
            new TestCommand("ops", "deploy"),
            new TestCommand("core", "echo"),
        ]);

        registry.All.Select(c => $"{c.Info.Pack}/{c.Info.Name}").ShouldBe(["core/echo", "core/ping", "ops/deploy", "ops/rollback"]);
    }

    [Fact]
    public void Suggest_SeveralNearMisses_ClosestFirstThenByNameUpToMax()
    {
        // pnig: ping is one swap away; king, pin and pong are two edits away; xylophone is far.
        var registry = new CommandRegistry(
        [
            new TestCommand("a", "pong"),
            new TestCommand("a", "xylophone"),
            new TestCommand("b", "pin"),
            new TestCommand("b", "king"),
            new TestCommand("c", "ping"),
        ]);

        var suggestions = registry.Suggest("pnig");

        suggestions.Select(c => c.Info.Name).ShouldBe(["ping", "king", "pin"]);
    }

    [Fact]
    public void Suggest_StartOfALongName_SuggestsIt()
    {
        var registry = new CommandRegistry([new TestCommand("core", "status"), new TestCommand("core", "ping")]);

        var suggestions = registry.Suggest("st");

        suggestions.Select(c => c.Info.Name).ShouldBe(["status"]);
    }

    [Fact]
    public void Suggest_CapitalisedTypo_StillSuggests()
    {
        var registry = new CommandRegistry([new TestCommand("core", "ping")]);

        registry.Suggest("PNIG").Select(c => c.Info.Name).ShouldBe(["ping"]);
    }

    [Fact]
    public void Suggest_FarFromEverything_SuggestsNothing()
    {
        var registry = new CommandRegistry([new TestCommand("core", "ping"), new TestCommand("core", "status")]);

        registry.Suggest("xyzzy").ShouldBeEmpty();
    }
}
