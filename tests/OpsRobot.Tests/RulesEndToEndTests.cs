using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// Webhooks, rules, enforcements and the datastore through the real server over HTTP, and the <c>kv</c> verbs as
/// a child process: what an operator wiring a monitoring system to OpsRobot would see.
/// </summary>
public sealed class RulesEndToEndTests : IAsyncLifetime
{
    private const string Secret = "hook-secret-for-tests";
    private RunningServer _server = null!;
    private ApiClient _api = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        home.Write("packs/hooks/pack.yaml", "name: hooks\nversion: 1.0.0\ndescription: Webhook rules for the tests.\n");
        home.Write("packs/hooks/rules/signed.yaml", """
            name: signed
            trigger:
              type: core.st2.webhook
              parameters: {url: signed, secret_key: hooks.signed_secret}
            criteria:
              trigger.body.state: {type: iequals, pattern: down}
            action:
              ref: core.echo
              parameters:
                message: "{{ trigger.body.host }} is down (limit {{ kv.system.limit }})"
            """);
        home.Write("packs/hooks/rules/open.yaml", """
            name: open
            trigger: {type: core.webhook, parameters: {url: open}}
            action: {ref: core.noop}
            """);
        home.Write("packs/hooks/rules/critical.yaml", """
            name: critical
            trigger: {type: core.alert}
            criteria:
              trigger.status: {type: equals, pattern: firing}
              trigger.severity: {type: inside, pattern: [critical, CRITICAL]}
            action:
              ref: core.echo
              parameters: {message: "{{ trigger.source }}: {{ trigger.name }} on {{ trigger.host }}: {{ trigger.summary }}"}
            """);
        _server = await RunningServer.StartAsync(home: home);
        _api = await _server.SignInAsync();
        _key = await _server.AdminKeyAsync();
        (await _api.PutAsJsonAsync("/api/v1/kv/system/hooks.signed_secret", new { value = Secret, secret = true })).EnsureSuccessStatusCode();
        (await _api.PutAsJsonAsync("/api/v1/kv/system/limit", new { value = "90" })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Webhook_Signed_NeedsNoOtherCredential_ButAnUnsignedOneNeedsAKnownCaller()
    {
        using var anonymous = _server.NewClient();
        var body = Encoding.UTF8.GetBytes("{\"host\": \"web9\", \"state\": \"down\"}");
        using var signed = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/signed") { Content = new ByteArrayContent(body) };
        signed.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        signed.Headers.Add("X-OpsRobot-Signature", Sign(body));
        using var open = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/open") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };

        (await anonymous.SendAsync(signed)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await anonymous.SendAsync(open)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static string Sign(byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));

    private async Task<HttpResponseMessage> PostAsync(string hook, string body, string contentType, string? signature)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/webhooks/{hook}") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        if (signature is not null)
        {
            request.Headers.Add("X-OpsRobot-Signature", signature);
        }

        return await _api.SendAsync(request);
    }

    private async Task<JsonElement> WaitForEnforcementAsync(long eventId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/events/{eventId}");
            if (answer.GetProperty("event").GetProperty("status").GetString() == "processed")
            {
                return answer;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the rule engine did not process the event within 60 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Webhook_SignedJson_StoresTheEventAndTheRuleRunsItsAction()
    {
        const string body = """{"state": "DOWN", "host": "db1"}""";

        var response = await PostAsync("signed", body, "application/json", Sign(Encoding.UTF8.GetBytes(body)));

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetInt64();
        var processed = await WaitForEnforcementAsync(eventId);
        var stored = processed.GetProperty("event").GetProperty("payload");
        stored.GetProperty("body").GetProperty("host").GetString().ShouldBe("db1");
        stored.GetProperty("headers").TryGetProperty("x-opsrobot-signature", out _).ShouldBeFalse("credentials are not stored");
        var enforcement = processed.GetProperty("enforcements").EnumerateArray().Single();
        enforcement.GetProperty("rule").GetString().ShouldBe("hooks.signed");
        enforcement.GetProperty("status").GetString().ShouldBe("started", enforcement.ToString());
        enforcement.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("db1 is down (limit 90)");

        var execution = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{enforcement.GetProperty("executionId").GetInt64()}");
        execution.GetProperty("action").GetString().ShouldBe("core.echo");
        execution.ToString().ShouldContain("rule:hooks.signed");
    }

    [Fact]
    public async Task Webhook_SignedForm_IsReadAsFields()
    {
        const string body = "state=down&host=web2&tag=a&tag=b";

        var response = await PostAsync("signed", body, "application/x-www-form-urlencoded", Sign(Encoding.UTF8.GetBytes(body)));

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetInt64();
        var processed = await WaitForEnforcementAsync(eventId);
        var fields = processed.GetProperty("event").GetProperty("payload").GetProperty("body");
        fields.GetProperty("host").GetString().ShouldBe("web2");
        fields.GetProperty("tag").EnumerateArray().Select(t => t.GetString()).ShouldBe(["a", "b"]);
        processed.GetProperty("enforcements").EnumerateArray().Single().GetProperty("parameters").GetProperty("message").GetString().ShouldStartWith("web2 is down");
    }

    [Theory]
    [InlineData(null, "no signature")]
    [InlineData("sha256=00", "wrong length")]
    [InlineData("sha256=zz", "not hex")]
    [InlineData("md5=abc", "wrong scheme")]
    public async Task Webhook_UnsignedOrBadSignature_IsRefusedAndNothingStored(string? signature, string why)
    {
        var before = await CountEventsAsync();

        var response = await PostAsync("signed", """{"state": "down"}""", "application/json", signature);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, why);
        (await CountEventsAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task Webhook_SignatureOfAnotherBody_IsRefused()
    {
        var response = await PostAsync("signed", """{"state": "down", "host": "evil"}""", "application/json", Sign(Encoding.UTF8.GetBytes("""{"state": "down"}""")));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Webhook_Oversized_IsRefusedWith413()
    {
        var body = "{\"x\": \"" + new string('a', 1024 * 1024) + "\"}";

        var response = await PostAsync("open", body, "application/json", null);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("open", "{not json", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("open", "a=b", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("open", "<xml/>", "application/xml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("nobody", "{}", "application/json", HttpStatusCode.NotFound)]
    [InlineData("bad name!", "{}", "application/json", HttpStatusCode.NotFound)]
    public async Task Webhook_BadDelivery_ClearError(string hook, string body, string contentType, HttpStatusCode status)
    {
        var response = await PostAsync(hook, body, contentType, null);

        response.StatusCode.ShouldBe(status);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Webhook_EmptyJsonBody_IsAnEventWithANullBody()
    {
        var response = await PostAsync("open", "", "application/json", null);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Webhook_WithoutSecret_TakesJsonFromAKnownCaller()
    {
        var response = await PostAsync("open", """{"a": 1}""", "application/json", null);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task KvApi_SecretIsMaskedEverywhere_PlainValueRoundTrips()
    {
        var get = await _api.GetFromJsonAsync<JsonElement>("/api/v1/kv/system/hooks.signed_secret");
        var list = await _api.GetStringAsync("/api/v1/kv/system");
        var deleted = await _api.DeleteAsync("/api/v1/kv/system/limit");
        var gone = await _api.GetAsync("/api/v1/kv/system/limit");

        get.GetProperty("value").GetString().ShouldBe("********");
        get.GetProperty("secret").GetBoolean().ShouldBeTrue();
        list.ShouldNotContain(Secret);
        list.ShouldContain("\"limit\"");
        deleted.StatusCode.ShouldBe(HttpStatusCode.OK);
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _api.GetAsync("/api/v1/kv/global")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _api.PutAsJsonAsync("/api/v1/kv/system/x", new { secret = true })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task KvVerbs_SetGetListDelete_ThroughTheServer()
    {
        var env = new Dictionary<string, string> { ["OPSROBOT_URL"] = _server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = _key };

        var set = await OpsRobotProcess.RunAsync(_server.Home.Path, ["kv", "set", "--secret", "--ttl", "1h", "system.db_password", "-"], "p4ssw0rd\n", environment: env);
        var get = await OpsRobotProcess.RunAsync(_server.Home.Path, ["kv", "get", "system.db_password"], environment: env);
        var list = await OpsRobotProcess.RunAsync(_server.Home.Path, ["kv", "list", "system", "--prefix", "db_"], environment: env);
        var delete = await OpsRobotProcess.RunAsync(_server.Home.Path, ["kv", "delete", "system.db_password"], environment: env);
        var missing = await OpsRobotProcess.RunAsync(_server.Home.Path, ["kv", "get", "system.db_password"], environment: env);

        set.ExitCode.ShouldBe(0, set.StandardError);
        get.StandardOutput.Trim().ShouldBe("********");
        list.StandardOutput.ShouldStartWith("system.db_password = ********  (expires ");
        (set.StandardOutput + set.StandardError + get.StandardOutput + list.StandardOutput).ShouldNotContain("p4ssw0rd");
        delete.ExitCode.ShouldBe(0, delete.StandardError);
        missing.ExitCode.ShouldBe(1);
        missing.StandardError.ShouldContain("no key");
    }

    [Fact]
    public async Task DatastoreKeyFile_IsCreatedAtStartOwnerOnly()
    {
        var key = Path.Combine(_server.Home.DataDir, "datastore.key");

        File.Exists(key).ShouldBeTrue();
        File.GetUnixFileMode(key).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (await File.ReadAllTextAsync(key)).ShouldNotContain(Secret);
    }

    [Fact]
    public async Task RulesApi_ListsTheLoadedRules()
    {
        var rules = await _api.GetFromJsonAsync<JsonElement>("/api/v1/rules");

        rules.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("ref").GetString()).ShouldBe(["hooks.critical", "hooks.open", "hooks.signed"], ignoreOrder: true);
    }

    private const string AlertmanagerDelivery = """
        {
          "version": "4",
          "groupKey": "{}:{alertname=\"DiskFull\"}",
          "truncatedAlerts": 0,
          "status": "firing",
          "receiver": "opsrobot",
          "groupLabels": {"alertname": "DiskFull"},
          "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
          "commonAnnotations": {},
          "externalURL": "http://alertmanager.example:9093",
          "alerts": [
            {
              "status": "firing",
              "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1:9100"},
              "annotations": {"summary": "/var is 97% full"},
              "startsAt": "2026-11-21T08:55:00Z",
              "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prometheus.example:9090/graph",
              "fingerprint": "a1b2c3d4e5f60718"
            },
            {
              "status": "resolved",
              "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db2:9100"},
              "annotations": {"summary": "/var is 91% full"},
              "startsAt": "2026-11-21T08:00:00Z",
              "endsAt": "2026-11-21T08:50:00Z",
              "generatorURL": "http://prometheus.example:9090/graph",
              "fingerprint": "0f1e2d3c4b5a6978"
            }
          ]
        }
        """;

    [Fact]
    public async Task Alertmanager_Delivery_OneNormalizedEventPerAlert_FiringOnesFireTheRule()
    {
        (await _api.PutAsJsonAsync("/api/v1/kv/system/alerts.alertmanager.token", new { value = "am-token", secret = true })).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts/alertmanager") { Content = new StringContent(AlertmanagerDelivery, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "am-token");

        var response = await _api.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var ids = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventIds").EnumerateArray().Select(i => i.GetInt64()).ToList();
        ids.Count.ShouldBe(2);
        var firing = await WaitForEnforcementAsync(ids[0]);
        var resolved = await WaitForEnforcementAsync(ids[1]);
        var payload = firing.GetProperty("event").GetProperty("payload");
        payload.GetProperty("source").GetString().ShouldBe("alertmanager");
        payload.GetProperty("name").GetString().ShouldBe("DiskFull");
        payload.GetProperty("host").GetString().ShouldBe("db1:9100");
        payload.GetProperty("fingerprint").GetString().ShouldBe("a1b2c3d4e5f60718");
        resolved.GetProperty("event").GetProperty("payload").GetProperty("status").GetString().ShouldBe("resolved");
        resolved.GetProperty("event").GetProperty("payload").GetProperty("ends_at").GetString().ShouldBe("2026-11-21T08:50:00Z");
        firing.GetProperty("enforcements").EnumerateArray().Single().GetProperty("parameters").GetProperty("message").GetString()
            .ShouldBe("alertmanager: DiskFull on db1:9100: /var is 97% full");
        resolved.GetProperty("enforcements").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Nagios_FormNotificationWithToken_BecomesAnAlert()
    {
        (await _api.PutAsJsonAsync("/api/v1/kv/system/alerts.nagios.token", new { value = "nagios-token", secret = true })).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts/nagios")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["type"] = "PROBLEM",
                ["host"] = "web1",
                ["service"] = "HTTP",
                ["state"] = "CRITICAL",
                ["output"] = "Connection refused",
            }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "nagios-token");

        var response = await _api.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventIds")[0].GetInt64();
        var processed = await WaitForEnforcementAsync(id);
        processed.GetProperty("enforcements").EnumerateArray().Single().GetProperty("parameters").GetProperty("message").GetString()
            .ShouldBe("nagios: HTTP on web1: Connection refused");
    }

    [Theory]
    [InlineData("/api/v1/alerts/alertmanager", "wrong-token")]
    [InlineData("/api/v1/alerts/nagios", "wrong-token")]
    public async Task AlertIntake_WrongToken_IsRefused(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(AlertmanagerDelivery, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        (await _api.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("/api/v1/alerts/alertmanager", "{\"alerts\": \"no\"}")]
    [InlineData("/api/v1/alerts/alertmanager", "not json")]
    [InlineData("/api/v1/alerts/nagios", "{\"host\": \"web1\"}")]
    public async Task AlertIntake_Malformed_IsRefusedWithTheReason(string path, string body)
    {
        var response = await _api.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().ShouldNotBeNullOrWhiteSpace();
    }

    private async Task<int> CountEventsAsync() =>
        (await _api.GetFromJsonAsync<JsonElement>("/api/v1/events?limit=1000")).GetProperty("events").GetArrayLength();
}
