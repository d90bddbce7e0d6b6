using System.Globalization;
using System.Text.Json;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Workflows.Engine;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Keeps the stored state of a workflow whose action has secret parameters encrypted at rest, with the datastore's
/// key (<see cref="ISecretProtector"/>, AES-256-GCM). A secret input flows into the context, into the inputs of the
/// tasks that use it and possibly into their results, so the whole stored state and the actions in flight are
/// sealed, not single values. Each sealed text is bound to its execution: it cannot be copied to another run's row
/// and read there. Workflows without secrets are stored in clear (cheaper, and readable when debugging).
/// </summary>
public sealed class WorkflowStateSeal(ISecretProtector? protector)
{
    // AesGcmSecretProtector's stored form; JSON never starts with it.
    private const string SealedPrefix = "v1:";

    /// <summary>Whether a key is there to seal with (offline tools have none).</summary>
    public bool CanSeal => protector is not null;

    /// <summary>Whether a stored text is sealed.</summary>
    public static bool IsSealed(string stored) => stored is not null && stored.StartsWith(SealedPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Whether a run must be stored sealed: its action has secret parameters, or the run was stored sealed already (a
    /// run stored encrypted stays so, even when its action no longer declares the secret, or is no longer loaded).
    /// </summary>
    /// <param name="action">The run's action, when it is known.</param>
    /// <param name="stored">The run as it is stored, when it is.</param>
    public static bool MustSeal(ActionDefinition? action, WorkflowRunRecord? stored) =>
        (action?.Parameters.Any(p => p.Secret) ?? false) || (stored is not null && IsSealed(stored.State));

    /// <summary>The engine's state of a stored run (its last whole state, then its steps), opened when sealed.</summary>
    /// <exception cref="DatastoreException">The state cannot be opened (see <see cref="Open"/>), is empty, or its steps do not fit it.</exception>
    public WorkflowState ReadState(WorkflowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var number = run.ExecutionId.ToString(CultureInfo.InvariantCulture);
        var snapshot = Open(run.State, run.ExecutionId);
        try
        {
            if (JsonSerializer.Deserialize<JsonElement>(snapshot).ValueKind != JsonValueKind.Object)
            {
                throw new DatastoreException($"The stored state of workflow #{number} is empty.");
            }

            return WorkflowJournal.Replay(snapshot, run.Steps.Select(s => OpenStep(s, run.ExecutionId)));
        }
        catch (JsonException ex)
        {
            throw new DatastoreException($"The stored state of workflow #{number} cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The actions in flight of a stored run, opened when sealed.</summary>
    /// <exception cref="DatastoreException">They cannot be opened (see <see cref="Open"/>).</exception>
    public WorkflowDispatchLog ReadDispatches(WorkflowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return JsonSerializer.Deserialize<WorkflowDispatchLog>(Open(run.Dispatches, run.ExecutionId)) ?? new WorkflowDispatchLog();
    }

    /// <summary>Encrypts <paramref name="json"/> for execution <paramref name="executionId"/>.</summary>
    /// <exception cref="InvalidOperationException">There is no key to seal with.</exception>
    public string Seal(string json, long executionId) =>
        (protector ?? throw new InvalidOperationException("The datastore key is not available, so a workflow with secret inputs cannot be stored safely."))
            .Protect(json, Context(executionId));

    /// <summary>Encrypts a step of execution <paramref name="executionId"/>'s state, bound to its version.</summary>
    /// <exception cref="InvalidOperationException">There is no key to seal with.</exception>
    public string SealStep(string json, long executionId, long version) =>
        (protector ?? throw new InvalidOperationException("The datastore key is not available, so a workflow with secret inputs cannot be stored safely."))
            .Protect(json, StepContext(executionId, version));

    /// <summary>
    /// The JSON of a stored step: decrypted when sealed. A sealed step is bound to its run and version, so steps cannot
    /// be moved between runs or reordered.
    /// </summary>
    /// <exception cref="DatastoreException">The step was sealed with another key, for another run or version, or was altered.</exception>
    public string OpenStep(WorkflowStoredStep step, long executionId)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!IsSealed(step.Text))
        {
            return step.Text;
        }

        return (protector ?? throw new DatastoreException($"The stored state of workflow #{executionId.ToString(CultureInfo.InvariantCulture)} is encrypted and the datastore key is not available."))
            .Unprotect(step.Text, StepContext(executionId, step.Version));
    }

    /// <summary>The JSON of a stored text: decrypted when sealed, as it is otherwise.</summary>
    /// <exception cref="DatastoreException">The text was sealed with another key or for another execution, or was altered.</exception>
    public string Open(string stored, long executionId)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!IsSealed(stored))
        {
            return stored;
        }

        return (protector ?? throw new DatastoreException($"The stored state of workflow #{executionId.ToString(CultureInfo.InvariantCulture)} is encrypted and the datastore key is not available."))
            .Unprotect(stored, Context(executionId));
    }

    private static string Context(long executionId) => "workflow_runs/" + executionId.ToString(CultureInfo.InvariantCulture);

    private static string StepContext(long executionId, long version) =>
        $"workflow_runs/{executionId.ToString(CultureInfo.InvariantCulture)}/steps/{version.ToString(CultureInfo.InvariantCulture)}";
}
