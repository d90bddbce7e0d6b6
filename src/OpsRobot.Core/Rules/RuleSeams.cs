using System.Text.Json.Nodes;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Rules;

/// <summary>What the templates of a rule see of the datastore, and the secret values in it (to mask them in records).</summary>
/// <param name="Kv">The object templates read as <c>kv</c>: <c>{"system": {…}, "user": {…}}</c>.</param>
/// <param name="SecretValues">The clear values of every secret in <paramref name="Kv"/>.</param>
public sealed record KeyValueView(JsonObject Kv, IReadOnlyCollection<string> SecretValues)
{
    public static KeyValueView Empty { get; } = new(new JsonObject { ["system"] = new JsonObject(), ["user"] = new JsonObject() }, []);
}

/// <summary>Gives rules their view of the datastore: the system scope, and the user scope of the name the rule acts under.</summary>
public interface IKeyValueViewSource
{
    Task<KeyValueView> GetViewAsync(string userName, CancellationToken cancellationToken);
}

/// <summary>
/// Starts a rule's action. The default goes through <see cref="ExecutionService"/> under the rule's identity; access
/// control wraps or replaces it to check the rule's grants first. Throws <see cref="ExecutionRequestException"/>
/// (with a message for people) when the action cannot start.
/// </summary>
public interface IRuleActionStarter
{
    /// <param name="rule">The rule that fired.</param>
    /// <param name="parameters">The action's parameters as the rule's templates rendered them, in clear.</param>
    /// <param name="trigger">The event it fired for.</param>
    /// <param name="secretValues">The datastore secrets the templates could read (<see cref="KeyValueView.SecretValues"/>): the execution masks them (<see cref="ExecutionRequest.SecretValues"/>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    Task<long> StartAsync(RuleDefinition rule, JsonObject parameters, EventRecord trigger, IReadOnlyCollection<string> secretValues, CancellationToken cancellationToken);
}

/// <summary>Runs a rule's action through the execution service, requested by the rule's own identity through the rule door.</summary>
public sealed class ExecutionServiceRuleActionStarter(ExecutionService executions) : IRuleActionStarter
{
    public async Task<long> StartAsync(RuleDefinition rule, JsonObject parameters, EventRecord trigger, IReadOnlyCollection<string> secretValues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(secretValues);
        var handle = await executions.RequestAsync(
            new ExecutionRequest(rule.ActionRef, parameters, new ExecutionRequester { Door = ExecutionDoor.Rule, UserName = rule.Identity }) { SecretValues = secretValues },
            cancellationToken).ConfigureAwait(false);
        return handle.Execution.Id;
    }
}
