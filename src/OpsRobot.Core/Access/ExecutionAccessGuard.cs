using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

/// <summary>
/// Access control's part in the execution service: a queued execution is authorized again when its turn comes
/// (rights and the whitelist may have changed while it waited), and every start and end is audited.
/// </summary>
public sealed class ExecutionAccessGuard(AccessService access, IUserStore users) : IExecutionGuard
{
    public async ValueTask<string?> RecheckAsync(ExecutionRecord execution, ActionDefinition action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(action);
        var requester = execution.Requester;
        if (requester.Door == ExecutionDoor.Unknown)
        {
            return "its stored requester cannot be read, so who asked for it cannot be checked";
        }

        var door = requester.Door switch
        {
            ExecutionDoor.Chat => Doors.Chat,
            ExecutionDoor.Api => Doors.Api,
            ExecutionDoor.Cli => Doors.Cli,
            _ => null,
        };
        if (door is null)
        {
            // Rules, workflows and retries act under identities of their own, checked when they were set up.
            return null;
        }

        var user = await users.FindByNameAsync(requester.UserName, cancellationToken).ConfigureAwait(false);
        AccessDecision decision;
        if (user is null)
        {
            decision = AccessDecision.Deny(DenialKind.Permission, $"user {requester.UserName} no longer exists", "its requester no longer exists");
        }
        else
        {
            var principal = await access.ForUserAsync(user, door, requester.RoomName is { } r ? $"{requester.Platform}:{r}" : requester.Address, cancellationToken).ConfigureAwait(false);
            var parameters = execution.Parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var room = requester.RoomId is { } id && requester.RoomName is { } name ? new ChatRoom(id, name, IsDirect: false) : null;
            decision = await access.AuthorizeRunAsync(principal, new RunRequest(action, null, parameters)
            {
                Room = room,
                Platform = requester.Platform,
                Sudo = true,
            }, cancellationToken).ConfigureAwait(false);
            if (decision.Kind == DenialKind.ElevationRequired)
            {
                // The elevation was checked when the command was accepted; the window closing while it waited does not withdraw it.
                decision = AccessDecision.Allow("elevation checked when the command was accepted");
            }
        }

        await access.Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Decision,
            Actor = requester.UserName,
            Door = door,
            Place = requester.RoomName ?? requester.Address,
            Subject = string.Create(CultureInfo.InvariantCulture, $"start queued execution #{execution.Id} of {execution.ActionRef}"),
            Decision = decision.Allowed ? "allow" : "deny",
            Rule = decision.Rule,
        }, cancellationToken).ConfigureAwait(false);
        return decision.Allowed ? null : $"Refused when its turn came: {decision.Explanation ?? decision.Rule}";
    }

    public async ValueTask StartedAsync(ExecutionRecord execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        await access.Audit.WriteAsync(Entry(execution, AuditKinds.ExecutionStarted), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask FinishedAsync(ExecutionRecord execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var entry = Entry(execution, AuditKinds.ExecutionFinished);
        entry.Detail!["status"] = execution.Status.ToWire();
        entry.Detail["exit_code"] = execution.ExitCode;
        entry.Detail["error"] = execution.Error;
        await access.Audit.WriteAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    private static AuditEntry Entry(ExecutionRecord e, string kind) => new()
    {
        Kind = kind,
        Actor = e.Requester.UserName,
        Door = e.Requester.Door.ToString().ToLowerInvariant(),
        Place = e.Requester.RoomName is { } room ? $"{e.Requester.Platform}:{room}" : e.Requester.Address,
        Subject = string.Create(CultureInfo.InvariantCulture, $"#{e.Id} {e.ActionRef}"),
        Detail = new JsonObject
        {
            ["execution_id"] = e.Id,
            ["action"] = e.ActionRef,
            ["alias"] = e.Requester.AliasRef,
            ["attempt"] = e.Attempt,
            ["parameters"] = e.Parameters.DeepClone(),
        },
    };
}
