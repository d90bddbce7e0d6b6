using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OpsRobot.Hosting;
using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>A real OpsRobot server on a free loopback port, with its own home folder and a known administrator.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    public const string AdminPassword = "correct-horse-battery";

    private RunningServer(ServerHost host, TestHome home, TestTimeProvider time)
    {
        Host = host;
        Home = home;
        Time = time;
        BaseAddress = new Uri(host.Addresses[0]);
    }

    public ServerHost Host { get; }

    public TestHome Home { get; }

    public TestTimeProvider Time { get; }

    public Uri BaseAddress { get; }

    public static async Task<RunningServer> StartAsync(IDictionary<string, string?>? settings = null, TestHome? home = null)
    {
        home ??= new TestHome();
        var time = new TestTimeProvider();
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["OpsRobot:Listen"] = "http://127.0.0.1:0",
            ["OpsRobot:Admin:Password"] = AdminPassword,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var host = await ServerHost.CreateAsync([], new ServerOverrides { Home = home.Path, Settings = all, Time = time }, CancellationToken.None);
        await host.StartAsync(CancellationToken.None);
        return new RunningServer(host, home, time);
    }

    /// <summary>An HTTP client with its own cookie jar, not signed in.</summary>
    public ApiClient NewClient() => new(new CookieContainer()) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A client signed in as <paramref name="user"/>.</summary>
    public async Task<ApiClient> SignInAsync(string user = "admin", string password = AdminPassword)
    {
        var client = NewClient();
        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = user, password });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return client;
    }

    /// <summary>Creates a user through the API as the administrator, with <paramref name="roles"/>, and returns a client signed in as them.</summary>
    public async Task<ApiClient> CreateUserAsync(string name, string password = "password-" + "for-tests", params string[] roles)
    {
        using var admin = await SignInAsync();
        var created = await admin.PostAsJsonAsync("/api/v1/users", new { name, password, roles });
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return await SignInAsync(name, password);
    }

    /// <summary>An API key for <paramref name="signedIn"/>'s user, made through the API; its secret.</summary>
    public static async Task<string> CreateApiKeyAsync(ApiClient signedIn, string name = "tests", object? scope = null, DateTimeOffset? expiresAt = null)
    {
        ArgumentNullException.ThrowIfNull(signedIn);
        var response = await signedIn.PostAsJsonAsync("/api/v1/apikeys", new { name, scope, expiresAt });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.GetProperty("secret").GetString()!;
    }

    /// <summary>The administrator's API key for command-line tests (made once per server).</summary>
    public async Task<string> AdminKeyAsync()
    {
        if (_adminKey is null)
        {
            using var admin = await SignInAsync();
            _adminKey = await CreateApiKeyAsync(admin, "admin key for tests");
        }

        return _adminKey;
    }

    private string? _adminKey;

    /// <summary>Opens the web chat's WebSocket with the session cookie of <paramref name="client"/>.</summary>
    public async Task<StreamClient> ConnectStreamAsync(ApiClient client, string? origin = null)
    {
        var socket = new ClientWebSocket();
        var cookies = client.Cookies.GetCookieHeader(BaseAddress);
        socket.Options.SetRequestHeader("Cookie", cookies);
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        var ws = new UriBuilder(BaseAddress) { Scheme = "ws", Path = "/api/v1/stream" }.Uri;
        await socket.ConnectAsync(ws, CancellationToken.None);
        return new StreamClient(socket);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.App.StopAsync();
        await Host.DisposeAsync();
        Home.Dispose();
    }
}

/// <summary>An HTTP client that keeps its cookie jar at hand, so a test can reuse the session on a WebSocket.</summary>
public sealed class ApiClient(CookieContainer cookies) : HttpClient(new HttpClientHandler { CookieContainer = cookies, UseCookies = true })
{
    public CookieContainer Cookies { get; } = cookies;
}

/// <summary>The test's end of a web chat WebSocket: send frames, wait for the frames that matter.</summary>
public sealed class StreamClient(ClientWebSocket socket) : IAsyncDisposable
{
    public ClientWebSocket Socket { get; } = socket;

    public Task SendAsync(object frame) =>
        Socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Reads frames until one satisfies <paramref name="match"/>; fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var frame = new MemoryStream();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await Socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"The server closed the stream: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
                }

                frame.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            var element = JsonDocument.Parse(Encoding.UTF8.GetString(frame.ToArray())).RootElement.Clone();
            if (match(element))
            {
                return element;
            }
        }
    }

    /// <summary>Waits for a message frame whose text is <paramref name="text"/>.</summary>
    public Task<JsonElement> WaitForMessageAsync(string text, TimeSpan? timeout = null) =>
        WaitForAsync(f => f.GetProperty("type").GetString() == "message" && f.GetProperty("message").GetProperty("text").GetString() == text, timeout);

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        Socket.Dispose();
    }
}
