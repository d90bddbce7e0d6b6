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
    /// <exception cref="DatastoreException">
    /// The state cannot be opened (see <see cref="Open"/>) or is empty; a step is missing, out of order, stored in clear
    /// in a sealed run, or does not fit the state before it.
    /// </exception>
    public WorkflowState ReadState(WorkflowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var number = run.ExecutionId.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < run.Steps.Count; i++)
        {
            if (run.Steps[i].Version != run.BaseVersion + 1 + i)
            {
                throw new DatastoreException(
                    $"The stored state of workflow #{number} cannot be read: its steps should follow version {run.BaseVersion} one by one, and step {i + 1} is version {run.Steps[i].Version}.");
            }
        }

        var snapshot = Open(run.State, run.ExecutionId);
        var sealedRun = IsSealed(run.State);
        try
        {
            if (JsonSerializer.Deserialize<JsonElement>(snapshot).ValueKind != JsonValueKind.Object)
            {
                throw new DatastoreException($"The stored state of workflow #{number} is empty.");
            }

            return WorkflowJournal.Replay(snapshot, run.Steps.Select(s => OpenUnder(s.Text, run.ExecutionId, StepContext(run.ExecutionId, run.BaseVersion, s.Version, "state"), sealedRun)));
        }
        catch (JsonException ex)
        {
            throw new DatastoreException($"The stored state of workflow #{number} cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The actions in flight of a stored run (as stored with its newest version), opened when sealed.</summary>
    /// <exception cref="DatastoreException">They cannot be opened (see <see cref="Open"/>), or are in clear in a sealed run.</exception>
    public WorkflowDispatchLog ReadDispatches(WorkflowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var context = run.Steps.Count > 0 ? StepContext(run.ExecutionId, run.BaseVersion, run.Version, "dispatches") : Context(run.ExecutionId);
        var json = OpenUnder(run.Dispatches, run.ExecutionId, context, mustBeSealed: IsSealed(run.State));
        return JsonSerializer.Deserialize<WorkflowDispatchLog>(json) ?? new WorkflowDispatchLog();
    }

    /// <summary>Encrypts <paramref name="json"/> for execution <paramref name="executionId"/>.</summary>
    /// <exception cref="InvalidOperationException">There is no key to seal with.</exception>
    public string Seal(string json, long executionId) =>
        (protector ?? throw new InvalidOperationException("The datastore key is not available, so a workflow with secret inputs cannot be stored safely."))
            .Protect(json, Context(executionId));

    /// <summary>
    /// Encrypts a step of execution <paramref name="executionId"/>'s state (and the actions in flight stored with it),
    /// bound to the whole state it follows and to its own version: steps cannot be moved between runs, reordered, or
    /// replayed on another whole state.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no key to seal with.</exception>
    public (string State, string Dispatches) SealStep(string state, string dispatches, long executionId, long baseVersion, long version)
    {
        var key = protector ?? throw new InvalidOperationException("The datastore key is not available, so a workflow with secret inputs cannot be stored safely.");
        return (key.Protect(state, StepContext(executionId, baseVersion, version, "state")), key.Protect(dispatches, StepContext(executionId, baseVersion, version, "dispatches")));
    }

    /// <summary>The JSON of a stored text: decrypted when sealed, as it is otherwise.</summary>
    /// <exception cref="DatastoreException">The text was sealed with another key or for another execution, or was altered.</exception>
    public string Open(string stored, long executionId)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return OpenUnder(stored, executionId, Context(executionId), mustBeSealed: false);
    }

    /// <summary>Opens a stored text sealed under <paramref name="context"/>; one in clear is refused when <paramref name="mustBeSealed"/>.</summary>
    private string OpenUnder(string stored, long executionId, string context, bool mustBeSealed)
    {
        if (!IsSealed(stored))
        {
            return mustBeSealed
                ? throw new DatastoreException($"Part of workflow #{executionId.ToString(CultureInfo.InvariantCulture)} is stored in clear in a sealed run.")
                : stored;
        }

        return (protector ?? throw new DatastoreException($"The stored state of workflow #{executionId.ToString(CultureInfo.InvariantCulture)} is encrypted and the datastore key is not available."))
            .Unprotect(stored, context);
    }

    private static string Context(long executionId) => "workflow_runs/" + executionId.ToString(CultureInfo.InvariantCulture);

    private static string StepContext(long executionId, long baseVersion, long version, string part) =>
        string.Create(CultureInfo.InvariantCulture, $"workflow_runs/{executionId}/steps/{baseVersion}/{version}/{part}");
}
