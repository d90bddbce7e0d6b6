using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Connected;

public sealed class ConnectedPartsTests
{
    private static readonly TestTimeProvider Time = new(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("Retry-After", "7", 7.0, "delta seconds")]
    [InlineData("Retry-After", "Sat, 21 Nov 2026 09:00:30 GMT", 30.0, "an HTTP date")]
    [InlineData("X-RateLimit-Reset", "3", 3.0, "Mattermost: seconds until the reset")]
    [InlineData("X-RateLimit-Reset", "1795251620", 20.0, "Unix seconds")]
    [InlineData("X-RateLimit-Reset", "1795251605000", 5.0, "Rocket.Chat: Unix milliseconds")]
    [InlineData("X-RateLimit-Reset", "99999999999999", 900.0, "absurdly far: capped at 15 minutes")]
    [InlineData("X-Nothing", "1", 5.0, "no hint: the default")]
    [InlineData("X-RateLimit-Reset", "1795251500", 0.1, "already past: a short pause, not a negative one")]
    public void RetryAfter_ReadsEachPlatformsHint(string header, string value, double seconds, string what)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation(header, value);

        ChatHttp.RetryAfter(response, Time).TotalSeconds.ShouldBe(seconds, 0.01, what);
    }

    [Theory]
    [InlineData(429, typeof(ChatRateLimitedException), true, "rate limited")]
    [InlineData(503, typeof(ChatApiException), true, "server error: try again")]
    [InlineData(404, typeof(ChatApiException), false, "refusal: do not repeat")]
    [InlineData(401, typeof(ChatApiException), false, "token refused")]
    public async Task SendAsync_MapsStatusToRetryOrRefusal(int status, Type expected, bool transient, string what)
    {
        using var client = new HttpClient(new Answer((HttpStatusCode)status, """{"ok":false,"error":"channel_not_found"}"""));
        using var request = ChatHttp.Json(HttpMethod.Post, new Uri("https://chat.test/api/x"), new JsonObject { ["token"] = "xoxb-secret" });

        var ex = await Should.ThrowAsync<ChatApiException>(() => ChatHttp.SendAsync(client, request, Time, CancellationToken.None));

        ex.GetType().ShouldBe(expected, what);
        ex.Transient.ShouldBe(transient, what);
        ex.Message.ShouldNotContain("secret");
    }

    [Theory]
    [InlineData("not json at all", "garbage")]
    [InlineData("[1,2,3]", "an array, not an object")]
    [InlineData("", "empty")]
    public async Task SendAsync_NonObjectAnswer_IsATransientError(string body, string what)
    {
        using var client = new HttpClient(new Answer(HttpStatusCode.OK, body));
        using var request = ChatHttp.Json(HttpMethod.Get, new Uri("https://chat.test/api/x"), null);

        var ex = await Should.ThrowAsync<ChatApiException>(() => ChatHttp.SendAsync(client, request, Time, CancellationToken.None));

        ex.Transient.ShouldBeTrue(what);
    }

    [Fact]
    public async Task JsonWebSocket_SkipsMalformedFrames_RefusesOversizedOnes()
    {
        var (app, url) = await AdapterHarness.StartKestrelAsync(a => a.Map("/ws", async (HttpContext c) =>
        {
            using var ws = await c.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync(Encoding.UTF8.GetBytes("{not json"), WebSocketMessageType.Text, true, CancellationToken.None);
            await ws.SendAsync(Encoding.UTF8.GetBytes("[\"array\"]"), WebSocketMessageType.Text, true, CancellationToken.None);
            await ws.SendAsync(Encoding.UTF8.GetBytes("""{"type":"hello"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            await ws.SendAsync(new byte[200_000], WebSocketMessageType.Text, true, CancellationToken.None);
            await Task.Delay(1000);
        }));
        await using var _ = app;
        var malformed = 0;
        await using var socket = await JsonWebSocket.ConnectAsync(new Uri($"ws://{url.Authority}/ws"), null, TimeSpan.FromSeconds(10), 100_000, CancellationToken.None);

        var first = await socket.ReceiveAsync(_ => malformed++, CancellationToken.None);

        first!["type"]!.GetValue<string>().ShouldBe("hello");
        malformed.ShouldBe(2);
        await Should.ThrowAsync<InvalidDataException>(() => socket.ReceiveAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Outbox_PeekCommit_DropsOldestBeyondCapacity()
    {
        var outbox = new ChatOutbox<string>(3);

        outbox.Enqueue(["a", "b"]).ShouldBe(0);
        outbox.Enqueue(["c", "d"]).ShouldBe(1);
        var (seq, first) = await outbox.PeekAsync(CancellationToken.None);
        first.ShouldBe("b");
        (await outbox.PeekAsync(CancellationToken.None)).Post.ShouldBe("b", "peeking twice does not consume");
        outbox.Commit(seq);

        (await outbox.PeekAsync(CancellationToken.None)).Post.ShouldBe("c");
        outbox.Count.ShouldBe(2);
    }

    [Fact]
    public void Outbox_HandsDroppedPostsToTheCallback_OldestFirst()
    {
        var outbox = new ChatOutbox<string>(2);
        var dropped = new List<string>();

        outbox.Enqueue(["a", "b"], dropped.Add).ShouldBe(0);
        outbox.Enqueue(["c", "d", "e"], dropped.Add).ShouldBe(3);

        dropped.ShouldBe(["a", "b", "c"]);
        outbox.Count.ShouldBe(2);
    }

    private sealed class Answer(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }
}
