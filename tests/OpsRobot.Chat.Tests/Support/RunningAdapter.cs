using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Chat.Connected;

namespace OpsRobot.Chat.Tests.Support;

/// <summary>
/// A chat adapter running against a fake server, with the services it was made from and, where the platform calls
/// OpsRobot back (interactive buttons, events over HTTP), the endpoint the test serves for it. Disposing stops the
/// adapter and releases all of it.
/// </summary>
internal sealed class RunningAdapter<TAdapter> : IAsyncDisposable
    where TAdapter : ChatAdapter, IDisposable
{
    private readonly ServiceProvider _services;
    private readonly IAsyncDisposable _running;
    private readonly WebApplication? _endpoint;

    private RunningAdapter(TAdapter adapter, ServiceProvider services, IAsyncDisposable running, WebApplication? endpoint, Uri? endpointUrl)
    {
        Adapter = adapter;
        _services = services;
        _running = running;
        _endpoint = endpoint;
        EndpointUrl = endpointUrl;
    }

    public TAdapter Adapter { get; }

    /// <summary>The address of the endpoint served for the adapter (given to it in its options), or null.</summary>
    public Uri? EndpointUrl { get; }

    /// <summary>
    /// Makes the adapter with <paramref name="create"/> from fresh <see cref="AdapterHarness.Services"/> and runs it.
    /// With <paramref name="endpoint"/>, first serves POST <paramref name="endpointPath"/> on loopback (handled by the
    /// adapter) and hands its address to <paramref name="create"/>.
    /// </summary>
    public static async Task<RunningAdapter<TAdapter>> StartAsync(
        Func<ServiceProvider, Uri?, TAdapter> create, string? endpointPath = null, Func<TAdapter, HttpRequest, Task<IResult>>? endpoint = null)
    {
        TAdapter? made = null;
        WebApplication? web = null;
        Uri? url = null;
        if (endpoint is not null)
        {
            var path = endpointPath ?? throw new ArgumentNullException(nameof(endpointPath), "An endpoint needs its path.");
            (web, var baseUrl) = await AdapterHarness.StartKestrelAsync(app => app.MapPost(path, (HttpRequest request) =>
                made is null ? Task.FromResult(Results.StatusCode(StatusCodes.Status503ServiceUnavailable)) : endpoint(made, request)));
            url = new Uri(baseUrl, path.TrimStart('/'));
        }

        var services = AdapterHarness.Services();
        made = create(services, url);
        var running = await AdapterHarness.RunAsync(made);
        return new RunningAdapter<TAdapter>(made, services, running, web, url);
    }

    /// <summary>Waits until the adapter says it is ready (connected and greeted).</summary>
    public Task WaitReadyAsync() => AdapterHarness.WaitUntilAsync(() => Adapter.State == ChatAdapterState.Ready);

    public async ValueTask DisposeAsync()
    {
        await _running.DisposeAsync();
        Adapter.Dispose();
        await _services.DisposeAsync();
        if (_endpoint is not null)
        {
            await _endpoint.StopAsync();
            await _endpoint.DisposeAsync();
        }
    }
}
