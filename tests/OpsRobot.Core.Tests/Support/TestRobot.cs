using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Status;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Support;

/// <summary>A robot wired from the real registry and the real core commands, as the host wires it.</summary>
internal sealed class TestRobot
{
    public TestRobot(RobotOptions? options = null, IEnumerable<IStatusSource>? sources = null, params IRobotCommand[] extra)
    {
        Info = new RobotInfo("1.2.3-test", Time.GetUtcNow());
        IRobotCommand[] core =
        [
            new HelpCommand(),
            new PingCommand(),
            new EchoCommand(),
            new WhoAmICommand(),
            new VersionCommand(Info),
            new StatusCommand(Info, sources ?? [], Time),
        ];
        Registry = new CommandRegistry([.. core, .. extra]);
        Robot = new Robot(Registry, Options.Create(options ?? new RobotOptions()), NullLogger<Robot>.Instance);
    }

    public TestTimeProvider Time { get; } = new();

    public RobotInfo Info { get; }

    public CommandRegistry Registry { get; }

    public Robot Robot { get; }

    public IncomingMessage InRoom(string text, string room = "ops") =>
        new("test", new ChatRoom("room-1", room, IsDirect: false), new ChatUser("u42", "alice"), text, Time.GetUtcNow());

    public IncomingMessage Direct(string text) =>
        new("test", new ChatRoom("room-2", "@alice", IsDirect: true), new ChatUser("u42", "alice"), text, Time.GetUtcNow());

    /// <summary>Sends a line in a room and returns the reply text, or null when the robot stayed quiet.</summary>
    public async Task<string?> SayAsync(string text) => (await Robot.HandleAsync(InRoom(text)))?.Text;
}

/// <summary>A command for the tests to register beside the core ones: it runs whatever the test gives it.</summary>
internal sealed class TestCommand(string pack, string name, Func<CommandContext, CancellationToken, ValueTask<OutgoingMessage>>? run = null) : IRobotCommand
{
    public CommandInfo Info { get; } = new(pack, name, name, $"Test command {name}.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        run is null ? ValueTask.FromResult(new OutgoingMessage(name + " ran")) : run(context, cancellationToken);
}

/// <summary>A part that reports a fixed state, standing in for an adapter whose health the test decides.</summary>
internal sealed class FixedStatusSource(string component, HealthState state, string detail) : IStatusSource
{
    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ComponentStatus(component, state, detail));
}
