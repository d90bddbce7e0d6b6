using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpsRobot.Integrations.Tests.Cmdb;

/// <summary>
/// A team's CMDB on Kestrel at 127.0.0.1, with its own JSON shape (not OpsRobot's): hosts under
/// <c>data.items</c>, names at <c>name</c>, addresses at <c>net.ips</c>, and so on. It wants an <c>X-Token</c>
/// header, ignores the environment filter (so OpsRobot must filter again), and can be told to fail.
/// </summary>
public sealed class FakeCmdb : IAsyncDisposable
{
    public const string Token = "s3cret-token";

    private readonly WebApplication _app;
    private int _calls;

    private FakeCmdb(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>How the next answers go: ok, error (500), badjson, slow (waits 30 s), or down (the server stopped).</summary>
    public string Mode { get; set; } = "ok";

    public Uri BaseUrl { get; }

    public int Calls => Volatile.Read(ref _calls);

    public string? LastQuery { get; private set; }

    public static JsonObject Remote(string name, string app, string env, params string[] ips) => new()
    {
        ["name"] = name,
        ["net"] = new JsonObject { ["ips"] = new JsonArray([.. ips.Select(i => JsonValue.Create(i))]) },
        ["env"] = env,
        ["app"] = new JsonObject { ["path"] = "/" + app },
        ["labels"] = "web, nginx",
        ["team"] = "Booking",
        ["state"] = "Active",
        ["facts"] = new JsonObject { ["os"] = "debian12", ["cpus"] = 4, ["nested"] = new JsonObject() },
    };

    public IList<JsonObject> Hosts { get; } =
    [
        Remote("web01", "corp/booking", "prod", "10.0.0.1"),
        Remote("web02", "corp/booking", "staging", "10.0.0.2"),
        Remote("search01", "corp/search", "prod", "10.0.1.1"),
        new JsonObject { ["net"] = new JsonObject() }, // no name: left out
    ];

    public static async Task<FakeCmdb> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeCmdb? fake = null;
        app.Use(async (http, next) =>
        {
            Interlocked.Increment(ref fake!._calls);
            if (http.Request.Headers["X-Token"] != Token)
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            switch (fake.Mode)
            {
                case "error":
                    http.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    await http.Response.WriteAsync("database on fire");
                    return;
                case "badjson":
                    http.Response.ContentType = "application/json";
                    await http.Response.WriteAsync("<html>login</html>");
                    return;
                case "slow":
                    await Task.Delay(TimeSpan.FromSeconds(30), http.RequestAborted);
                    return;
                default:
                    await next(http);
                    return;
            }
        });
        app.MapGet("/api/v2/hosts/{name}", (string name) =>
            fake!.Hosts.FirstOrDefault(h => h["name"]?.GetValue<string>() == name) is { } host
                ? Results.Content(new JsonObject { ["data"] = host.DeepClone() }.ToJsonString(), "application/json")
                : Results.NotFound());
        app.MapGet("/api/v2/hosts", (HttpRequest request) =>
        {
            fake!.LastQuery = request.QueryString.Value;
            var app = request.Query["app"].ToString();
            var items = fake.Hosts.Where(h => app.Length == 0 || (h["app"]?["path"]?.GetValue<string>() ?? string.Empty).StartsWith("/" + app, StringComparison.Ordinal));
            return Results.Content(new JsonObject { ["data"] = new JsonObject { ["items"] = new JsonArray([.. items.Select(h => h.DeepClone())]) } }.ToJsonString(), "application/json");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake = new FakeCmdb(app, new Uri(address + "/api/v2/"));
        return fake;
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A free loopback port nothing listens on, for "the CMDB is down".</summary>
    public static Uri Nowhere()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/api/v2/");
    }
}
