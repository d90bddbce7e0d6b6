using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using OpsRobot.Runners.Http;
using OpsRobot.Runners.Tests.Support;

namespace OpsRobot.Runners.Tests.Http;

public sealed class HttpRunnerTests(HttpTestServer server) : IClassFixture<HttpTestServer>, IDisposable
{
    private readonly ServiceProvider _services = Services();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Names_AreOursThenStackStorms()
    {
        Runner().Names.ShouldBe(["http", "http-request"]);
    }

    [Fact]
    public async Task RunAsync_JsonAnswer_SucceedsWithParsedBody()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/json" });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        var obj = result.Result.ShouldBeOfType<JsonObject>();
        obj.Select(p => p.Key).Order(StringComparer.Ordinal).ShouldBe(["body", "headers", "parsed", "status_code"]);
        obj["status_code"]!.GetValue<int>().ShouldBe(200);
        obj["parsed"]!.GetValue<bool>().ShouldBeTrue();
        obj["body"]!["hello"]!.GetValue<string>().ShouldBe("world");
        obj["body"]!["n"]!.GetValue<int>().ShouldBe(1);
        obj["headers"]!["Content-Type"]!.GetValue<string>().ShouldStartWith("application/json");
    }

    [Theory]
    [InlineData("text/plain", "/text", "plain text")]
    [InlineData("JSON that does not parse", "/badjson", "not json {")]
    [InlineData("latin-1 charset", "/latin1", "café")]
    public async Task RunAsync_NonJsonAnswer_BodyIsTextNotParsed(string label, string path, string expected)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + path });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, label);
        result.Result!["parsed"]!.GetValue<bool>().ShouldBeFalse(label);
        result.Result["body"]!.GetValue<string>().ShouldBe(expected, label);
    }

    [Fact]
    public async Task RunAsync_PlusJsonMediaType_IsParsed()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/problem" });

        result.Result!["parsed"]!.GetValue<bool>().ShouldBeTrue();
        result.Result["body"]!["title"]!.GetValue<string>().ShouldBe("bad");
    }

    [Theory]
    [InlineData("ok", 200, RunnerOutcome.Succeeded)]
    [InlineData("created", 201, RunnerOutcome.Succeeded)]
    [InlineData("no content", 204, RunnerOutcome.Succeeded)]
    [InlineData("partial content", 206, RunnerOutcome.Succeeded)]
    [InlineData("multi-status is outside st2's 200-206", 207, RunnerOutcome.Failed)]
    [InlineData("not modified", 304, RunnerOutcome.Failed)]
    [InlineData("not found", 404, RunnerOutcome.Failed)]
    [InlineData("server error", 500, RunnerOutcome.Failed)]
    [InlineData("unavailable", 503, RunnerOutcome.Failed)]
    public async Task RunAsync_StatusCode_OutcomeFollowsStackStorm(string label, int status, RunnerOutcome expected)
    {
        var result = await RunAsync(new() { ["url"] = $"{server.Http}/status/{status}" });

        result.Outcome.ShouldBe(expected, label);
        result.Result!["status_code"]!.GetValue<int>().ShouldBe(status, label);
        if (expected == RunnerOutcome.Failed)
        {
            result.Error.ShouldNotBeNull(label).ShouldContain(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task RunAsync_ErrorStatus_StillReturnsBodyAndHeaders()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/status/404" });

        result.Result!["body"]!.GetValue<string>().ShouldBe("status 404");
        result.Result["headers"].ShouldBeOfType<JsonObject>().Count.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task RunAsync_RedirectByDefault_NotFollowedAndFails()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/redirect" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Result!["status_code"]!.GetValue<int>().ShouldBe(302);
        result.Result["headers"]!["Location"]!.GetValue<string>().ShouldEndWith("/json");
    }

    [Fact]
    public async Task RunAsync_AllowRedirects_FollowsToTheTarget()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/redirect", ["allow_redirects"] = true });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Result!["body"]!["hello"]!.GetValue<string>().ShouldBe("world");
    }

    [Fact]
    public async Task RunAsync_UsernameAndPassword_SendsBasicAuthorization()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo", ["username"] = "ops", ["password"] = "pa:ss wörd" });

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:pa:ss wörd"));
        Echoed(result)["headers"]!["authorization"]!.GetValue<string>().ShouldBe(expected);
    }

    [Fact]
    public async Task RunAsync_CredentialsInUrl_SentAsBasicAuthorization()
    {
        var url = server.Http.Replace("http://", "http://ops:p%40ss@", StringComparison.Ordinal) + "/echo";

        var result = await RunAsync(new() { ["url"] = url });

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:p@ss"));
        Echoed(result)["headers"]!["authorization"]!.GetValue<string>().ShouldBe(expected);
    }

    [Fact]
    public async Task RunAsync_NoCredentials_SendsNoAuthorization()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo" });

        Echoed(result)["headers"]!.AsObject().ContainsKey("authorization").ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_ObjectBody_SentAsJsonWithPostByDefault()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo", ["body"] = new JsonObject { ["app"] = "web", ["replicas"] = 3 } });

        var echoed = Echoed(result);
        echoed["method"]!.GetValue<string>().ShouldBe("POST");
        echoed["headers"]!["content-type"]!.GetValue<string>().ShouldStartWith("application/json");
        JsonNode.Parse(echoed["body"]!.GetValue<string>())!["replicas"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public async Task RunAsync_StringBodyWithHeaders_SentAsItIs()
    {
        var result = await RunAsync(new()
        {
            ["url"] = server.Http + "/echo",
            ["method"] = "put",
            ["body"] = "<xml a='1'/>",
            ["headers"] = new JsonObject { ["Content-Type"] = "application/xml", ["X-Trace"] = "abc", ["X-Count"] = 5 },
        });

        var echoed = Echoed(result);
        echoed["method"]!.GetValue<string>().ShouldBe("PUT");
        echoed["body"]!.GetValue<string>().ShouldBe("<xml a='1'/>");
        echoed["headers"]!["content-type"]!.GetValue<string>().ShouldBe("application/xml");
        echoed["headers"]!["x-trace"]!.GetValue<string>().ShouldBe("abc");
        echoed["headers"]!["x-count"]!.GetValue<string>().ShouldBe("5");
    }

    [Fact]
    public async Task RunAsync_Params_AppendedToQueryEncoded()
    {
        var result = await RunAsync(new()
        {
            ["url"] = server.Http + "/echo?x=1",
            ["params"] = new JsonObject { ["q"] = "a b&c=d", ["tag"] = new JsonArray("p", "q"), ["skip"] = null },
        });

        Echoed(result)["query"]!.GetValue<string>().ShouldBe("?x=1&q=a%20b%26c%3Dd&tag=p&tag=q");
    }

    [Fact]
    public async Task RunAsync_DefaultHeaders_IdentifyOpsRobotAndTheAction()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo" });

        var headers = Echoed(result)["headers"]!;
        headers["user-agent"]!.GetValue<string>().ShouldStartWith("OpsRobot/");
        headers["x-opsrobot-action"]!.GetValue<string>().ShouldBe("tests.http_action");
        headers["x-opsrobot-execution"]!.GetValue<string>().ShouldBe("exec-1");
    }

    [Fact]
    public async Task RunAsync_Cookies_SentInOneCookieHeader()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo", ["cookies"] = new JsonObject { ["session"] = "s1", ["theme"] = "dark" } });

        Echoed(result)["headers"]!["cookie"]!.GetValue<string>().ShouldBe("session=s1; theme=dark");
    }

    [Theory]
    [InlineData("CRLF in value", "X-Evil", "a\r\nInjected: 1")]
    [InlineData("LF in value", "X-Evil", "a\nInjected: 1")]
    [InlineData("bad name", "X Evil", "a")]
    [InlineData("colon in name", "X-Evil:", "a")]
    public async Task RunAsync_HostileHeader_FailsWithoutSending(string label, string name, string value)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo", ["headers"] = new JsonObject { [name] = value } });

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Result!.AsObject().ContainsKey("status_code").ShouldBeFalse(label);
    }

    [Theory]
    [InlineData("ftp scheme", "ftp://127.0.0.1/file")]
    [InlineData("file scheme", "file:///etc/passwd")]
    [InlineData("relative", "/json")]
    [InlineData("not a url", "just words")]
    [InlineData("javascript", "javascript:alert(1)")]
    [InlineData("empty", "")]
    public async Task RunAsync_NotAnHttpUrl_FailsClearly(string label, string url)
    {
        var result = await RunAsync(new() { ["url"] = url });

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Error.ShouldNotBeNull(label).ShouldContain("http", Case.Insensitive);
    }

    [Fact]
    public async Task RunAsync_UrlWithSecret_ErrorDoesNotRepeatIt()
    {
        var result = await RunAsync(new() { ["url"] = "ftp://user:s3cr3t-token@127.0.0.1/" });

        result.Error.ShouldNotBeNull().ShouldNotContain("s3cr3t-token");
    }

    [Fact]
    public async Task RunAsync_HostBlacklisted_FailsWithoutSending()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/json", ["url_hosts_blacklist"] = new JsonArray("127.0.0.1") });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("blacklist");
    }

    [Theory]
    [InlineData("listed", "127.0.0.1", RunnerOutcome.Succeeded)]
    [InlineData("not listed", "example.com", RunnerOutcome.Failed)]
    public async Task RunAsync_HostWhitelist_OnlyListedHostsAllowed(string label, string allowed, RunnerOutcome expected)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/json", ["url_hosts_whitelist"] = new JsonArray(allowed) });

        result.Outcome.ShouldBe(expected, label);
    }

    [Fact]
    public async Task RunAsync_SelfSignedCertificateByDefault_FailsVerification()
    {
        var result = await RunAsync(new() { ["url"] = server.Https + "/json" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("TLS");
        result.Error.ShouldContain("verify_ssl_cert");
    }

    [Fact]
    public async Task RunAsync_SelfSignedCertificateWithVerifyOff_Succeeds()
    {
        var result = await RunAsync(new() { ["url"] = server.Https + "/json", ["verify_ssl_cert"] = false });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Result!["body"]!["hello"]!.GetValue<string>().ShouldBe("world");
    }

    [Fact]
    public async Task RunAsync_VerifyOffForOneAction_OthersStillVerify()
    {
        await RunAsync(new() { ["url"] = server.Https + "/json", ["verify_ssl_cert"] = false });

        var result = await RunAsync(new() { ["url"] = server.Https + "/json", ["verify_ssl_cert"] = true });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
    }

    [Fact]
    public async Task RunAsync_CanceledDuringSlowRequest_ReturnsCanceledQuickly()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var stopwatch = Stopwatch.StartNew();

        var result = await RunAsync(new() { ["url"] = server.Http + "/slow" }, cancellationToken: cts.Token).WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Canceled);
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task RunAsync_TimeoutParameterElapses_FailsWithTimeout()
    {
        var stopwatch = Stopwatch.StartNew();

        var result = await RunAsync(new() { ["url"] = server.Http + "/slow", ["timeout"] = 0.3 }).WaitAsync(TimeSpan.FromSeconds(10));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("timed out");
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData("zero", 0)]
    [InlineData("negative", -1)]
    [InlineData("huge", 1e12)]
    public async Task RunAsync_BadTimeout_FailsClearly(string label, double timeout)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/json", ["timeout"] = timeout });

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Error.ShouldNotBeNull(label).ShouldContain("'timeout'");
    }

    [Theory]
    [InlineData("with Content-Length", "/big/5000")]
    [InlineData("streamed without length", "/bigstream/50000")]
    public async Task RunAsync_BodyOverLimit_FailsWithClearError(string label, string path)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + path }, limit: 1000);

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Error.ShouldNotBeNull(label).ShouldContain("1000-byte limit");
        result.Result!["status_code"]!.GetValue<int>().ShouldBe(200, label);
    }

    [Fact]
    public async Task RunAsync_BodyAtLimit_Succeeds()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/bigstream/1000" }, limit: 1000);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Result!["body"]!.GetValue<string>().Length.ShouldBe(1000);
    }

    [Fact]
    public async Task RunAsync_ConnectionRefused_FailsWithReason()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await RunAsync(new() { ["url"] = $"http://127.0.0.1:{port}/" });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error.ShouldNotBeNull().ShouldContain("request failed");
    }

    [Theory]
    [InlineData("method with space", "GE T")]
    [InlineData("method with newline", "GET\r\nX: y")]
    public async Task RunAsync_InvalidMethod_FailsClearly(string label, string method)
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/json", ["method"] = method });

        result.Outcome.ShouldBe(RunnerOutcome.Failed, label);
        result.Error.ShouldNotBeNull(label).ShouldContain("'method'");
    }

    [Fact]
    public async Task RunAsync_Head_ReturnsStatusWithoutBody()
    {
        var result = await RunAsync(new() { ["url"] = server.Http + "/echo", ["method"] = "HEAD" });

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded);
        result.Result!["status_code"]!.GetValue<int>().ShouldBe(200);
    }

    [Theory]
    [InlineData("no url parameter", false, null, "needs a 'url' parameter")]
    [InlineData("literal default not http", true, "ftp://x/", "not an absolute http")]
    public void Validate_BadAction_ReportsProblem(string label, bool declareUrl, string? urlDefault, string expected)
    {
        var action = new ActionDefinition("tests", "a", "http")
        {
            Parameters = declareUrl ? [new ParameterDefinition("url", ParameterType.String) { Default = urlDefault }] : [],
        };

        Runner().Validate(action).ShouldHaveSingleItem(label).ShouldContain(expected);
    }

    [Theory]
    [InlineData("literal http default", "https://example.com/api")]
    [InlineData("templated default", "https://{{ host }}/api")]
    [InlineData("no default", null)]
    public void Validate_GoodAction_NoProblems(string label, string? urlDefault)
    {
        var action = new ActionDefinition("tests", "a", "http") { Parameters = [new ParameterDefinition("url", ParameterType.String) { Default = urlDefault }] };

        Runner().Validate(action).ShouldBeEmpty(label);
    }

#pragma warning disable MA0016 // Target-typed new() { ["k"] = v } in the tests needs the concrete type.
    private static ServiceProvider Services(long? limit = null) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<ITemplateRenderer>(TestRunners.Renderer)
            .AddOpsRobotRunners()
            .Configure<HttpRunnerOptions>(o => o.MaxResponseBodyBytes = limit ?? o.MaxResponseBodyBytes)
            .BuildServiceProvider();

    private HttpRunner Runner() => _services.GetServices<IRunner>().OfType<HttpRunner>().Single();

    private async Task<RunnerResult> RunAsync(Dictionary<string, JsonNode?> parameters, long? limit = null, CancellationToken cancellationToken = default)
    {
        var declared = parameters.Keys.Select(k => new ParameterDefinition(k, ParameterType.String)).ToList();
        var action = new ActionDefinition("tests", "http_action", "http") { Parameters = declared };
        var context = TestRunners.Context(action, parameters);
        if (limit is null)
        {
            return await Runner().RunAsync(context, cancellationToken);
        }

        await using var services = Services(limit);
        return await services.GetServices<IRunner>().OfType<HttpRunner>().Single().RunAsync(context, cancellationToken);
    }

    private static JsonNode Echoed(RunnerResult result)
    {
        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        return result.Result!["body"].ShouldNotBeNull();
    }
}
