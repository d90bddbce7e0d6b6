using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// The bodies a stranger sends to the webhook and alert endpoints, through the real HTTP pipeline: random JSON, deep
/// nesting, huge strings, wrong types, bytes that are not UTF-8, wrong content types. Every answer is 202 or a 4xx
/// with a clear JSON error; never a 500, never a hang, and the server stays healthy.
/// </summary>
public sealed class IntakeFuzzTests : IAsyncLifetime
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);
    private static readonly string[] Endpoints = ["/api/v1/webhooks/fuzz", "/api/v1/alerts/alertmanager", "/api/v1/alerts/nagios"];
    private static readonly string[] ContentTypes =
        ["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x"];

    private RunningServer _server = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        home.Write("packs/fz/pack.yaml", "name: fz\nversion: 1.0.0\ndescription: Fuzz target\n");
        home.Write("packs/fz/rules/fuzz.yaml", """
            name: fuzz
            trigger: {type: core.webhook, parameters: {url: fuzz}}
            criteria:
              trigger.body.state: {type: iequals, pattern: down}
            action: {ref: core.noop}
            """);
        _server = await RunningServer.StartAsync(home: home);
        _api = await _server.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("random JSON values", 31)]
    [InlineData("broken and non-UTF-8 bodies", 32)]
    public async Task Post_HostileBodies_AreAcceptedOrRefusedClearly_NeverA500(string row, int seed)
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        var ran = 0;
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (; ran < 1500 && clock.Elapsed < Budget; ran++)
        {
            var endpoint = Endpoints[random.Next(Endpoints.Length)];
            var body = seed == 31 ? Encoding.UTF8.GetBytes(RandomJson(random, random.Next(4) == 0 ? 200 : 6)) : Broken(random);
            var contentType = random.Next(5) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";

            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            HttpResponseMessage response;
            try
            {
                response = await _api.SendAsync(request, timeout.Token);
            }
            catch (TaskCanceledException ex)
            {
                throw new ShouldAssertException($"{row}: case {ran} hung (no answer in 20 s) on {endpoint} with {Show(body)}", ex);
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync();
                statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
                ((int)response.StatusCode).ShouldBeLessThan(500, $"{row}: case {ran} on {endpoint} ({contentType}) with {Show(body)} answered {text}");
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    using var error = JsonDocument.Parse(text);
                    var message = error.RootElement.GetProperty("error").GetString();
                    message.ShouldNotBeNullOrWhiteSpace($"{row}: {text}");
                    message.ShouldNotContain("   at ", Case.Sensitive, $"{row}: a stack trace in {text}");
                    message.ShouldNotContain("Exception", Case.Sensitive, $"{row}: a type name in {text}");
                }
            }
        }

        ran.ShouldBeGreaterThan(100, $"{row}: too few cases within the budget to mean anything");
        statuses.Keys.ShouldContain(HttpStatusCode.BadRequest, $"{row}: the fuzzer never produced a refused body: {string.Join(", ", statuses)}");
        (await _api.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("JSON nested 100,000 deep", "deep")]
    [InlineData("a string of 2 MB, beyond the body limit", "huge")]
    [InlineData("a body of exactly the limit of spaces", "spaces")]
    [InlineData("a thousand and one alerts", "many-alerts")]
    public async Task Post_ExtremeBodies_AreRefusedClearly(string row, string kind)
    {
        var (endpoint, body) = kind switch
        {
            "deep" => ("/api/v1/webhooks/fuzz", new string('[', 100_000) + new string(']', 100_000)),
            "huge" => ("/api/v1/webhooks/fuzz", "{\"state\": \"" + new string('x', 2 * 1024 * 1024) + "\"}"),
            "spaces" => ("/api/v1/webhooks/fuzz", new string(' ', 1024 * 1024)),
            "many-alerts" => ("/api/v1/alerts/alertmanager", "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[" +
                string.Join(",", Enumerable.Repeat("{\"status\":\"firing\",\"labels\":{\"alertname\":\"x\"}}", 1001)) + "]}"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _api.PostAsync(endpoint, content);
        var text = await response.Content.ReadAsStringAsync();

        ((int)response.StatusCode).ShouldBeInRange(400, 499, $"{row}: {text}");
        JsonDocument.Parse(text).RootElement.GetProperty("error").GetString().ShouldNotBeNullOrWhiteSpace(row);
        (await _api.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Post_AValidWebhookAfterTheFuzz_StillRunsItsRule()
    {
        var response = await _api.PostAsJsonAsync("/api/v1/webhooks/fuzz", new { state = "DOWN", host = "web1" });

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetInt64();
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var answer = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/events/{id}");
            return answer.GetProperty("enforcements").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(60));
    }

    private static string Show(byte[] body) => body.Length > 300 ? $"{body.Length:N0} bytes starting {Encoding.UTF8.GetString(body, 0, 300)}" : Encoding.UTF8.GetString(body);

    /// <summary>Any JSON value: the right shapes with the wrong types, odd numbers, odd strings, and sometimes very deep.</summary>
    private static string RandomJson(Random random, int depth)
    {
        var sb = new StringBuilder();
        Value(sb, random, depth);
        return sb.ToString();
    }

    private static void Value(StringBuilder sb, Random random, int depth)
    {
        switch (depth <= 0 ? random.Next(6) : random.Next(9))
        {
            case 0: sb.Append("null"); break;
            case 1: sb.Append(random.Next(2) == 0 ? "true" : "false"); break;
            case 2: sb.Append(random.Next(4) switch { 0 => "1e999", 1 => "-0", 2 => "123456789012345678901234567890", _ => random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) }); break;
            case 3: sb.Append(JsonSerializer.Serialize(RandomText(random))); break;
            case 4: sb.Append(JsonSerializer.Serialize(random.Next(3) switch { 0 => "down", 1 => "firing", _ => "" })); break;
            case 5: sb.Append('"').Append(new string('x', random.Next(1, 100_000))).Append('"'); break;
            case 6 or 7:
                sb.Append('{');
                var keys = random.Next(0, 6);
                for (var i = 0; i < keys; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    var key = random.Next(3) == 0 ? new[] { "state", "alerts", "labels", "status", "host", "service", "annotations", "version" }[random.Next(8)] : RandomText(random);
                    sb.Append(JsonSerializer.Serialize(key)).Append(':');
                    Value(sb, random, depth - 1);
                }

                sb.Append('}');
                break;
            default:
                sb.Append('[');
                var items = random.Next(0, 6);
                for (var i = 0; i < items; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    Value(sb, random, depth - 1);
                }

                sb.Append(']');
                break;
        }
    }

    private static string RandomText(Random random)
    {
        var sb = new StringBuilder();
        var n = random.Next(0, 20);
        for (var i = 0; i < n; i++)
        {
            sb.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0, 32),
                1 => (char)random.Next(0x80, 0x2FFF),
                _ => (char)random.Next(32, 127),
            });
        }

        return sb.ToString();
    }

    /// <summary>JSON cut short, with stray bytes, overlong and invalid UTF-8 sequences, or nothing at all.</summary>
    private static byte[] Broken(Random random)
    {
        var json = Encoding.UTF8.GetBytes(RandomJson(random, 4)).ToList();
        switch (random.Next(5))
        {
            case 0:
                return [.. json.Take(random.Next(json.Count + 1))];
            case 1:
                return [];
            default:
                var edits = random.Next(1, 6);
                for (var i = 0; i < edits; i++)
                {
                    byte[] junk = random.Next(4) switch
                    {
                        0 => [0xC0, 0x80],
                        1 => [0xED, 0xA0, 0x80],
                        2 => [0xFF],
                        _ => [(byte)random.Next(256)],
                    };
                    json.InsertRange(random.Next(json.Count + 1), junk);
                }

                return [.. json];
        }
    }
}
