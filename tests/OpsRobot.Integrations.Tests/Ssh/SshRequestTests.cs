using System.Text.Json.Nodes;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Tests.Ssh;

public sealed class SshRequestTests
{
    private static (SshRequest? Request, string? Error) Parse(string json) =>
        SshRequest.Parse(JsonNode.Parse(json)!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal), new SshOptions());

    [Fact]
    public void Parse_HostsAsOneString_SplitOnCommasButArgsKeptWhole()
    {
        var (request, error) = Parse("""{"hosts": "Web1, web2", "cmd": "uptime", "args": "a,b"}""");

        error.ShouldBeNull();
        request!.Hosts.ShouldBe(["web1", "web2"]);
        request.Arguments.ShouldBe(["a,b"]);
    }

    [Fact]
    public void Parse_EmptyOptionalStrings_MeanNotGiven()
    {
        var (request, error) = Parse("""{"hosts": ["web1"], "cmd": "uptime", "user": "", "username": "deploy", "cwd": ""}""");

        error.ShouldBeNull();
        request!.User.ShouldBe("deploy");
        request.WorkingDirectory.ShouldBeNull();
    }

    [Fact]
    public void Parse_EnvVarsOfOtherTypes_PassedAsTheirText()
    {
        var (request, error) = Parse("""{"hosts": ["web1"], "cmd": "env", "env_vars": {"COUNT": 3, "NAME": "x"}}""");

        error.ShouldBeNull();
        request!.Environment.ShouldBe([new("COUNT", "3"), new("NAME", "x")]);
    }

    [Theory]
    [InlineData("a user that is a number", """{"hosts": ["web1"], "cmd": "id", "user": 5}""", "Parameter 'user' must be a string, not a number.")]
    [InlineData("hosts as an object", """{"hosts": {"a": 1}, "cmd": "id"}""", "Parameter 'hosts' must be a list of strings (or one comma-separated string), not an object.")]
    [InlineData("a timeout of NaN", """{"hosts": ["web1"], "cmd": "id", "timeout": "NaN"}""", "Parameter 'timeout' must be a number, not a string.")]
    [InlineData("a password in the parameters", """{"hosts": ["web1"], "cmd": "id", "password": "hunter2"}""", "The ssh runner takes no key or password in its parameters: store the private key as a datastore secret and name it with 'key'.")]
    public void Parse_BadParameters_SaySoWithoutTheirValues(string _, string json, string expected)
    {
        var (request, error) = Parse(json);

        request.ShouldBeNull();
        error.ShouldBe(expected);
    }
}
