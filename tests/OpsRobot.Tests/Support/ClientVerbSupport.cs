using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>
/// The pack the client verb tests run: shell actions that print, fail, sleep and time out. Every action runs with
/// HOME pointed at a sandbox folder holding a sentinel file, so a quoting bug in a hostile-value test would hit
/// the sandbox (and be seen) instead of the real home folder.
/// </summary>
public static class ClientVerbPack
{
    public const string Sentinel = "sentinel.txt";

    /// <summary>Writes packs/clientdemo into <paramref name="home"/> and returns the sandbox folder used as HOME.</summary>
    public static string WriteTo(TestHome home)
    {
        var sandbox = Path.Combine(home.Path, "sandbox-home");
        Directory.CreateDirectory(sandbox);
        File.WriteAllText(Path.Combine(sandbox, Sentinel), "still here");
        var env = $"  env: {{type: object, immutable: true, default: {{HOME: \"{sandbox}\"}}}}\n";

        home.Write("packs/clientdemo/pack.yaml", "name: clientdemo\nversion: 0.1.0\ndescription: Actions for the command-line client tests\n");
        home.Write("packs/clientdemo/actions/say.yaml", """
            name: say
            runner_type: shell
            description: Print a message, then a line on standard error
            parameters:
              cmd: {type: string, immutable: true, default: "printf '%s\n' {{ message }}; printf 'err\n' >&2"}
              message: {type: string, required: true}

            """ + env);
        home.Write("packs/clientdemo/actions/fail.yaml", """
            name: fail
            runner_type: shell
            description: Print a line and exit 3
            parameters:
              cmd: {type: string, immutable: true, default: "printf 'about to fail\n'; exit 3"}

            """ + env);
        home.Write("packs/clientdemo/actions/tick.yaml", """
            name: tick
            runner_type: shell
            description: Print one line, wait, print another
            parameters:
              cmd: {type: string, immutable: true, default: "printf 'one\n'; sleep 3; printf 'two\n'"}

            """ + env);
        home.Write("packs/clientdemo/actions/sleep.yaml", """
            name: sleep
            runner_type: shell
            description: Sleep for half a minute
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 30"}

            """ + env);
        home.Write("packs/clientdemo/actions/slow.yaml", """
            name: slow
            runner_type: shell
            description: Sleep longer than its timeout allows
            timeout: 1
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 10"}

            """ + env);
        home.Write("packs/clientdemo/actions/count.yaml", """
            name: count
            runner_type: noop
            description: Takes an integer
            parameters:
              count: {type: integer, required: true}

            """);
        return sandbox;
    }

    /// <summary>The id in the closing line of <c>run</c> (<c>execution 42 succeeded in 1.3s</c>).</summary>
    public static long IdFromSummary(string stderr)
    {
        var match = Regex.Match(stderr, @"execution (\d+) ");
        match.Success.ShouldBeTrue($"no 'execution N' line in: {stderr}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A loopback port nothing listens on (bound, read, released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>
/// A stand-in for an OpsRobot server on Kestrel (loopback, port 0), for what the real one cannot be made to do on
/// demand: drop an output stream half-way, or answer with something that is not OpsRobot's API. It speaks the
/// documented protocol; each test maps only the routes it needs.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeApiServer(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    public Uri BaseAddress { get; }

    public string Url => BaseAddress.ToString().TrimEnd('/');

    public static async Task<FakeApiServer> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeApiServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
