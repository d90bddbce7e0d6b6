using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Slack;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Commands;

namespace OpsRobot.Chat.Tests.Slack;

/// <summary>
/// Slack's HTTP deliveries (Events API and interactivity Request URLs) to OpsRobot's endpoint, mapped as the host
/// maps it, signed as Slack signs them; replies still go through <see cref="FakeSlack"/>'s Web API.
/// </summary>
public sealed class SlackHttpDeliveryTests
{
    private const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";

    [Fact]
    public async Task UrlVerification_Signed_AnswersTheChallenge()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await Robot.StartAsync(slack);

        var response = await robot.DeliverAsync("""{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    }

    [Fact]
    public async Task EventCallback_Signed_IsAnsweredInItsThread_RetryIgnored()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await Robot.StartAsync(slack);
        var body = new JsonObject
        {
            ["token"] = "t",
            ["team_id"] = "T0001",
            ["type"] = "event_callback",
            ["event_id"] = "Ev1",
            ["event"] = FakeSlack.Message("U0ALICE", "C0OPS", "!ping", "1700000010.000200", threadTs: "1700000010.000100"),
        }.ToJsonString();

        (await robot.DeliverAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await robot.DeliverAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK); // Slack's retry (X-Slack-Retry-Num)

        var post = await slack.NextPostAsync();
        post["text"]!.GetValue<string>().ShouldBe("pong");
        post["thread_ts"]!.GetValue<string>().ShouldBe("1700000010.000100");
        (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue();
    }

    [Fact]
    public async Task Interaction_FormEncodedAndSigned_RunsTheButtonsCommandAsThePresser()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await Robot.StartAsync(slack);
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = "U0BOB", ["username"] = "bob" },
            ["channel"] = new JsonObject { ["id"] = "C0OPS" },
            ["container"] = new JsonObject { ["type"] = "message", ["channel_id"] = "C0OPS", ["message_ts"] = "1700000011.000100" },
            ["message"] = new JsonObject { ["ts"] = "1700000011.000100" },
            ["actions"] = new JsonArray(new JsonObject { ["action_id"] = "opsrobot-0", ["value"] = "!approve 12", ["type"] = "button", ["action_ts"] = "1700000012.1" }),
        };

        var response = await robot.DeliverAsync("payload=" + Uri.EscapeDataString(payload.ToJsonString()), "application/x-www-form-urlencoded");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await slack.NextPostAsync())["text"]!.GetValue<string>().ShouldBe("approved 12 by U0BOB on slack");
    }

    [Theory]
    [InlineData("wrong-secret", 0, "signed with another secret")]
    [InlineData(Secret, -400, "a replay from seven minutes ago")]
    [InlineData(null, 0, "unsigned")]
    public async Task Delivery_BadSignature_Is401_AndNothingRuns(string? secret, int ageSeconds, string what)
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var robot = await Robot.StartAsync(slack);
        var body = new JsonObject { ["type"] = "event_callback", ["event"] = FakeSlack.Message("U0ALICE", "C0OPS", "!ping", "1700000013.000100") }.ToJsonString();

        var response = await robot.DeliverAsync(body, secret: secret, ageSeconds: ageSeconds);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, what);
        (await slack.NoPostWithinAsync(TimeSpan.FromMilliseconds(500))).ShouldBeTrue(what);
    }

    private sealed class Robot(RunningAdapter<SlackAdapter> running) : IAsyncDisposable
    {
        private readonly HttpClient _client = new();

        /// <summary>The adapter with events over HTTP only (no app token), and OpsRobot's endpoint for them.</summary>
        public static async Task<Robot> StartAsync(FakeSlack slack)
        {
            var options = new SlackOptions { Enabled = true, BotToken = FakeSlack.BotToken, SigningSecret = Secret, ApiBaseUrl = slack.ApiBase, MessageDelay = TimeSpan.Zero };
            options.Validate();
            var running = await RunningAdapter<SlackAdapter>.StartAsync(
                (services, _) => new SlackAdapter(Options.Create(options), services.GetRequiredService<IOptions<RobotOptions>>(), services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, services.GetRequiredService<ILogger<SlackAdapter>>()),
                SlackOptions.EventsPath,
                async (adapter, request) =>
                {
                    var body = await ChatHttp.ReadCappedAsync(request.Body, 1024 * 1024, request.HttpContext.RequestAborted);
                    var (status, type, text) = adapter.HandleHttp(request.Headers["X-Slack-Request-Timestamp"], request.Headers["X-Slack-Signature"], body!, request.ContentType);
                    return Results.Content(text, type, statusCode: status);
                });
            await AdapterHarness.WaitUntilAsync(() => running.Adapter.State == ChatAdapterState.Ready && running.Adapter.BotUserId is not null);
            return new Robot(running);
        }

        public async Task<HttpResponseMessage> DeliverAsync(string body, string contentType = "application/json", string? secret = Secret, int ageSeconds = 0)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var timestamp = TimeProvider.System.GetUtcNow().AddSeconds(ageSeconds).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Post, running.EndpointUrl) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            if (secret is not null)
            {
                request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
                request.Headers.Add("X-Slack-Signature", SlackRequestVerifier.Sign(secret, timestamp, bytes));
            }

            return await _client.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            await running.DisposeAsync();
            _client.Dispose();
        }
    }
}
