using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;

namespace OpsRobot.Chat.Tests.Support;

/// <summary>
/// The robot as the host wires it for a chat adapter: the real <see cref="Robot"/> with core commands, plus two
/// test commands for buttons: <c>deploy N</c> answers with Approve/Deny buttons standing for <c>!approve N</c> and
/// <c>!deny N</c>; <c>approve N</c> says who approved (by immutable user id).
/// </summary>
internal static class AdapterHarness
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static ServiceProvider Services(Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(new RobotOptions()));
        IRobotCommand[] commands = [new PingCommand(), new EchoCommand(), new WhoAmICommand(), new DeployCommand(), new ApproveCommand()];
        services.AddSingleton(new CommandRegistry(commands));
        services.AddSingleton<Robot>();
        more?.Invoke(services);
        return services.BuildServiceProvider();
    }

    /// <summary>Waits (polling, up to <see cref="Wait"/>) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = TimeProvider.System.GetUtcNow() + AdapterHarness.Wait;
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > until)
            {
                throw new TimeoutException("The condition did not come true in time.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Runs <paramref name="adapter"/> until the returned handle is disposed.</summary>
    public static async Task<IAsyncDisposable> RunAsync(BackgroundService adapter)
    {
        await adapter.StartAsync(CancellationToken.None);
        return new Stopper(adapter);
    }

    /// <summary>Starts a Kestrel app on a free loopback port; returns it and its base address.</summary>
    public static async Task<(WebApplication App, Uri BaseUrl)> StartKestrelAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.TrimEnd('/') + "/"));
    }

    private sealed class Stopper(BackgroundService adapter) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await adapter.StopAsync(cts.Token);
        }
    }

    private sealed class DeployCommand : IRobotCommand
    {
        public CommandInfo Info { get; } = new("test", "deploy", "deploy N", "Ask for approval of deploy N.");

        public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new OutgoingMessage($"Deploy {context.Arguments} needs approval.")
            {
                Buttons =
                [
                    new ChatButton("Approve", $"!approve {context.Arguments}") { Style = ChatButtonStyle.Primary },
                    new ChatButton("Deny", $"!deny {context.Arguments}") { Style = ChatButtonStyle.Danger },
                ],
            });
    }

    private sealed class ApproveCommand : IRobotCommand
    {
        public CommandInfo Info { get; } = new("test", "approve", "approve N", "Approve deploy N.");

        public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new OutgoingMessage($"approved {context.Arguments} by {context.Message.Sender.Id} on {context.Message.Platform}"));
    }
}
