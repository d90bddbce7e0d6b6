using System.Text.Json;
using OpsRobot.Core.Workflows.Engine;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary>
/// Stores one workflow run as it goes: the whole state first, then a step per save with only what changed
/// (<see cref="WorkflowJournal"/>), and the whole state again once the steps since it add up to more than it (so the
/// steps never take more room than the state itself and reading a run back stays cheap), and when the run finishes.
/// Each save is a compare-and-set on the run's version: a second writer of the same run is refused.
/// </summary>
public sealed class WorkflowRunWriter
{
    /// <summary>Steps are stored until they add up to this many characters at least, however small the whole state.</summary>
    internal const int MinStepBudget = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly IWorkflowStore _store;
    private readonly WorkflowStateSeal? _seal;
    private long _wholeChars;

    // The version of the last whole state this writer stored (0: none yet, so the next save is whole).
    private long _baseVersion;
    private long _stepChars;
#if DEBUG
    // What the last save stored, in clear: each step is checked against it (see CheckStep).
    private string? _stored;
#endif

    /// <param name="store">Where the run is kept.</param>
    /// <param name="executionId">The workflow's execution.</param>
    /// <param name="actionRef">The workflow's action.</param>
    /// <param name="workflowFile">The workflow file the run follows.</param>
    /// <param name="version">The version stored now (0: the run is not stored yet).</param>
    /// <param name="seal">Encrypts what is stored (null: stored in clear).</param>
    public WorkflowRunWriter(IWorkflowStore store, long executionId, string actionRef, string workflowFile, long version, WorkflowStateSeal? seal)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ExecutionId = executionId;
        ActionRef = actionRef ?? throw new ArgumentNullException(nameof(actionRef));
        WorkflowFile = workflowFile ?? throw new ArgumentNullException(nameof(workflowFile));
        Version = version;
        _seal = seal;
    }

    public long ExecutionId { get; }

    public string ActionRef { get; }

    public string WorkflowFile { get; }

    /// <summary>The version last stored.</summary>
    public long Version { get; private set; }

    /// <summary>How many saves stored the whole state, and how many a step.</summary>
    public (int Whole, int Steps) Saves { get; private set; }

    /// <summary>
    /// Stores the run: <paramref name="state"/> (whole or as a step), the actions in flight and whether it finished.
    /// Returns false when another writer stored this run meanwhile (nothing was stored).
    /// </summary>
    public async Task<bool> SaveAsync(WorkflowState state, WorkflowDispatchLog dispatches, bool finished, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(dispatches);
        var inFlight = JsonSerializer.Serialize(dispatches, Json);

        // A finished run is stored whole: it is read back (the API, a re-run) more often than it changes.
        var step = finished || _baseVersion == 0 ? null : WorkflowJournal.TakeStep(state);
        if (step is not null && _stepChars + step.Length > Math.Max(_wholeChars, MinStepBudget))
        {
            step = null;
        }

        bool saved;
        try
        {
            if (step is null)
            {
                var whole = JsonSerializer.Serialize(state, Json);
                saved = await _store.SaveAsync(new WorkflowRunRecord
                {
                    ExecutionId = ExecutionId,
                    ActionRef = ActionRef,
                    WorkflowFile = WorkflowFile,
                    State = Sealed(whole),
                    Dispatches = Sealed(inFlight),
                    Finished = finished,
                }, Version, cancellationToken).ConfigureAwait(false);
                if (saved)
                {
                    _baseVersion = Version + 1;
                    _wholeChars = whole.Length;
                    _stepChars = 0;
                    Saves = (Saves.Whole + 1, Saves.Steps);
                    Remember(whole);
                }
            }
            else
            {
                CheckStep(state, step);
                var (stored, storedInFlight) = _seal is null ? (step, inFlight) : _seal.SealStep(step, inFlight, ExecutionId, _baseVersion, Version + 1);
                saved = await _store.AppendStepAsync(ExecutionId, Version, stored, storedInFlight, cancellationToken).ConfigureAwait(false);
                if (saved)
                {
                    _stepChars += step.Length;
                    Saves = (Saves.Whole, Saves.Steps + 1);
                }
            }
        }
        catch
        {
            // Whether it was stored is not known: the next save stores the state whole.
            WorkflowJournal.Unsure(state);
            throw;
        }

        if (!saved)
        {
            WorkflowJournal.Unsure(state);
            return false;
        }

        WorkflowJournal.Stored(state);
        Version++;
        return true;
    }

    private string Sealed(string json) => _seal is null ? json : _seal.Seal(json, ExecutionId);

#if DEBUG
    private void Remember(string whole) => _stored = whole;

    /// <summary>
    /// Debug builds (the test suite) check every step: the state last stored, with the step applied, must be the state
    /// now, byte for byte. A change the engine made without recording it fails here rather than after a crash.
    /// </summary>
    private void CheckStep(WorkflowState state, string step)
    {
        var now = JsonSerializer.Serialize(state, Json);
        if (_stored is not null && JsonSerializer.Serialize(WorkflowJournal.Replay(_stored, [step]), Json) != now)
        {
            throw new InvalidOperationException($"Workflow {ExecutionId}: the step to store does not bring the stored state up to date; the engine changed something it did not record.");
        }

        _stored = now;
    }
#else
    private static void Remember(string whole)
    {
    }

    private static void CheckStep(WorkflowState state, string step)
    {
    }
#endif
}
