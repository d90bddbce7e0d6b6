using static OpsRobot.Core.Workflows.WorkflowStatuses;

namespace OpsRobot.Core.Workflows.Engine;

/// <summary>What the rest of a with-items task is doing, seen from one item's event (the item itself left out).</summary>
internal readonly record struct ItemsContext(bool Active, bool Paused, bool Canceled, bool Failed, bool Incomplete);

/// <summary>What the rest of the workflow is doing, seen from one task's completion.</summary>
internal readonly record struct WorkflowContext(bool Active, bool Canceling, bool Pausing, bool Incomplete);

/// <summary>
/// The status machines of tasks and workflows, with StackStorm's meanings: a task that fails fails the workflow
/// unless a transition handles it (it is then "remediated" and counts as succeeded); a pause or cancel waits for
/// active tasks and finishes when the workflow goes dormant; a workflow completes when nothing is active, staged or
/// reachable.
/// </summary>
internal static class StateMachines
{
    /// <summary>A task's status after an action event (not for a with-items task's item).</summary>
    public static string? TaskOnAction(string? current, string status) => current switch
    {
        null => status is Requested or Scheduled or Delayed or Running or Pending ? status : current,
        Requested or Scheduled or Delayed => status switch
        {
            Requested => current,
            Scheduled when current == Scheduled => current,
            Delayed when current == Delayed => current,
            Scheduled or Delayed or Running or Pending or Pausing or Paused or Canceling or Canceled or Failed or Expired or Abandoned => status,
            _ => current,
        },
        Running => status switch
        {
            Running or Pending or Pausing or Paused or Canceling or Canceled or Failed or Succeeded => status,
            Expired or Abandoned => Failed,
            _ => current,
        },
        Pending => status switch
        {
            // The wait is over (an ask was answered): the action runs on to its end.
            Running or Canceled or Failed or Succeeded => status,
            Expired or Abandoned => Failed,
            _ => current,
        },
        Pausing => status switch
        {
            Paused or Resuming or Canceling or Canceled or Failed => status,
            Expired or Abandoned => Failed,
            _ => current,
        },
        Paused => status is Running or Resuming or Canceling or Canceled ? status : current,
        Resuming or Retrying => status is Running or Canceling or Canceled ? status : current,
        Canceling => status switch
        {
            Paused or Canceled => Canceled,
            Failed or Expired or Abandoned => Failed,
            _ => current,
        },
        _ => current,
    };

    /// <summary>Whether an item event is judged against the other items (a completion or a pause).</summary>
    public static bool ItemNeedsContext(string status) =>
        status is Resuming or Pending or Paused or Succeeded or Failed or Expired or Abandoned or Canceled;

    /// <summary>A with-items task's status after one item's completion or pause.</summary>
    public static string? TaskOnItem(string? current, string status, ItemsContext items)
    {
        var abended = status is Failed or Expired or Abandoned;
        return current switch
        {
            Running => status switch
            {
                Pending or Paused => items.Active ? Pausing : items.Paused ? Paused : items.Canceled ? Canceled : items.Failed ? Failed : Paused,
                Canceled => items.Active ? Canceling : Canceled,
                _ when abended => items.Active ? current : items.Canceled && !items.Paused ? Canceled : Failed,
                Succeeded => items.Active ? Running : items.Paused ? Paused : items.Canceled ? Canceled : items.Failed ? Failed : items.Incomplete ? Running : Succeeded,
                _ => current,
            },
            Pausing when !items.Active => status switch
            {
                Pending or Paused => items.Paused ? Paused : items.Canceled ? Canceled : items.Failed ? Failed : Paused,
                Canceled => Canceled,
                _ when abended => items.Canceled && !items.Paused ? Canceled : Failed,
                Succeeded => items.Paused ? Paused : items.Canceled ? Canceled : items.Failed ? Failed : items.Incomplete ? Paused : Succeeded,
                _ => current,
            },
            Canceling when !items.Active => status == Succeeded && !items.Paused && !items.Canceled && !items.Failed && !items.Incomplete ? Succeeded : Canceled,
            _ => current,
        };
    }

    /// <summary>A task's status after the workflow is asked to pause or cancel while the task is active.</summary>
    public static string? TaskOnWorkflowRequest(string? current, string request, bool hasItems, bool itemsActive, bool itemsIncomplete)
    {
        var pause = request is Pausing or Paused;
        var cancel = request is Canceling or Canceled;
        if (current == Retrying && cancel)
        {
            return Canceled;
        }

        if (current != Running || !hasItems || !itemsIncomplete || !(pause || cancel))
        {
            return current;
        }

        return pause ? (itemsActive ? Pausing : Paused) : (itemsActive ? Canceling : Canceled);
    }

    /// <summary>The workflow's status after a request (run, pause, resume, cancel, fail).</summary>
    public static string? WorkflowOnRequest(string? current, string request, bool active, bool completedOnResume)
    {
        var pause = request is Pausing or Paused;
        var cancel = request is Canceling or Canceled;
        return current switch
        {
            null => request is Requested or Scheduled or Delayed or Running or Failed ? request : current,
            Requested or Scheduled or Delayed => request switch
            {
                Scheduled or Delayed or Running or Failed => request,
                _ when pause && !active => Paused,
                _ when cancel && !active => Canceled,
                _ => current,
            },
            Running => request switch
            {
                _ when pause => active ? Pausing : Paused,
                _ when cancel => active ? Canceling : Canceled,
                Failed or Succeeded => request,
                _ => current,
            },
            Pausing or Resuming => request switch
            {
                _ when pause => active ? Pausing : Paused,
                _ when cancel => active ? Canceling : Canceled,
                Running or Failed => request,
                Resuming when current == Pausing => Resuming,
                _ => current,
            },
            Paused => request switch
            {
                Running or Resuming => completedOnResume ? Succeeded : request,
                _ when cancel && !active => Canceled,
                Failed => Failed,
                _ => current,
            },
            Canceling => request switch
            {
                _ when cancel => active ? Canceling : Canceled,
                Failed => Failed,
                _ => current,
            },
            Succeeded => request == Failed ? Failed : current,
            _ => current,
        };
    }

    /// <summary>The workflow's status after one of its tasks changed status.</summary>
    /// <param name="current">The workflow's status.</param>
    /// <param name="taskStatus">The task's new status.</param>
    /// <param name="remediated">The task ended badly but a transition handles it.</param>
    /// <param name="wf">What else is going on in the workflow.</param>
    public static string? WorkflowOnTask(string? current, string? taskStatus, bool remediated, WorkflowContext wf)
    {
        var status = taskStatus is Expired or Abandoned ? Failed : taskStatus;
        var done = status == Succeeded || (status == Failed && remediated);
        string Completion(string activePaused, string activeCanceled, string activeOther, string dormantIncomplete) =>
            wf.Active
                ? wf.Canceling ? activeCanceled : wf.Pausing ? activePaused : activeOther
                : wf.Canceling ? Canceled : wf.Pausing ? Paused : wf.Incomplete ? dormantIncomplete : Succeeded;

        return current switch
        {
            Running => status switch
            {
                _ when done => Completion(Pausing, Canceling, Running, Running),
                Failed => Failed,
                Pending => wf.Active ? Pausing : Paused,
                Paused => wf.Active ? Running : Paused,
                Canceling => Canceling,
                Canceled => wf.Active ? Canceling : Canceled,
                _ => current,
            },
            Pausing => status switch
            {
                _ when done && wf.Active => remediated && wf.Canceling ? Canceling : Pausing,
                _ when done => wf.Canceling ? Canceled : Paused,
                Failed => Failed,
                Pending or Paused or Retrying => wf.Active ? Pausing : Paused,
                Canceling => Canceling,
                Canceled => wf.Active ? Canceling : Canceled,
                _ => current,
            },
            // A task that runs again (an ask answered) wakes a paused workflow, unless another still waits for
            // people: the workflow then stays on its way to paused.
            Paused => status is Running or Resuming ? (wf.Pausing ? Pausing : Running) : current,
            Resuming => status switch
            {
                _ when done => wf.Active
                    ? (wf.Canceling || wf.Pausing ? current : Running)
                    : wf.Canceling ? Canceled : wf.Pausing ? Paused : wf.Incomplete ? Running : Succeeded,
                Running => Running,
                Pending => wf.Active ? Pausing : Paused,
                Failed => Failed,
                Canceling => Canceling,
                Canceled => wf.Active ? Canceling : Canceled,
                _ => current,
            },
            Canceling => status switch
            {
                Pending or Paused or Succeeded or Failed or Canceled or Retrying => wf.Active ? Canceling : Canceled,
                _ => current,
            },
            _ => current,
        };
    }
}
