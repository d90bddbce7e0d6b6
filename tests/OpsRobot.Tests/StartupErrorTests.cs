using System.Net;
using System.Net.Sockets;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>Every start that cannot succeed stops with one clear line that names the problem and the fix.</summary>
public sealed class StartupErrorTests
{
    [Fact]
    public async Task Serve_MalformedAppSettings_NamesTheFile()
    {
        using var home = new TestHome();
        home.Write("appsettings.json", "{ \"OpsRobot\": { \"Listen\": ");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["serve"]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("appsettings.json");
        result.StandardError.ShouldContain("valid JSON");
        result.StandardError.ShouldNotContain("   at "); // no stack trace
    }

    [Fact]
    public async Task Serve_MissingPacksFolder_SaysHowToFixIt()
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["serve", "--packs", Path.Combine(home.Path, "no-such-packs")]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("no-such-packs does not exist");
        result.StandardError.ShouldContain("--packs");
    }

    [Fact]
    public async Task Serve_DataFolderNotWritable_SaysHowToFixIt()
    {
        using var home = new TestHome();
        var blocker = home.Write("not-a-folder", "a file where the data folder should go");

        var result = await OpsRobotProcess.RunAsync(home.Path, ["serve", "--data", Path.Combine(blocker, "data")]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("is not writable");
        result.StandardError.ShouldContain("--data");
    }

    [Fact]
    public async Task Serve_PortInUse_SaysSoAndHowToChooseAnother()
    {
        using var home = new TestHome();
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var result = await OpsRobotProcess.RunAsync(home.Path, ["serve", "--listen", $"http://127.0.0.1:{port}"]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("already in use");
        result.StandardError.ShouldContain("--listen");
    }

    [Theory]
    [InlineData("--OpsRobot:MaxMessageLength=lots", "MaxMessageLength")]
    [InlineData("--OpsRobot:MaxMessageLength=0", "MaxMessageLength")]
    [InlineData("--OpsRobot:CommandPrefix=a b", "CommandPrefix")]
    [InlineData("--OpsRobot:RobotName=robot name!", "RobotName")]
    [InlineData("--OpsRobot:Listen=ftp://example", "Listen")]
    [InlineData("--OpsRobot:Chat:Irc:Port=lots", "OpsRobot:Chat:Irc:Port")]
    public async Task Serve_BadSetting_NamesTheKey(string setting, string key)
    {
        using var home = new TestHome();

        var result = await OpsRobotProcess.RunAsync(home.Path, ["serve", setting]);

        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain(key);
        result.StandardError.ShouldNotContain("   at ");
    }
}
