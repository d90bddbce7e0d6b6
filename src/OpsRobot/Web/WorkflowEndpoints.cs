using System.Globalization;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Users;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Web;

/// <summary>The workflow API: a workflow execution's task graph with each task's status. See docs/workflows.md.</summary>
internal static class WorkflowEndpoints
{
    /// <summary>The body of <c>POST /api/v1/executions/{id}/rerun</c>.</summary>
    internal sealed record RerunWorkflowRequest(List<string>? Tasks);

    public static IEndpointRouteBuilder MapWorkflowApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/executions").WithTags("Executions");
        api.MapGet("/{id:long}/workflow", GetAsync)
            .WithSummary("A workflow execution's task graph: tasks with their status, transitions, runs in order, routes, errors, output.");
        api.MapPost("/{id:long}/pause", (long id, HttpContext http, IUserStore users, WorkflowRequests requests, CancellationToken ct) =>
                ControlAsync(id, http, users, requests, pause: true, ct))
            .WithSummary("Pause a running workflow: running tasks finish, nothing new starts until it is resumed.");
        api.MapPost("/{id:long}/resume", (long id, HttpContext http, IUserStore users, WorkflowRequests requests, CancellationToken ct) =>
                ControlAsync(id, http, users, requests, pause: false, ct))
            .WithSummary("Resume a paused workflow.");
        api.MapPost("/{id:long}/rerun", RerunAsync)
            .WithSummary("Re-run a workflow that ended without succeeding from its failed tasks (or the ones named in tasks), keeping what succeeded.");
        return app;
    }

    private static async Task<IResult> RerunAsync(
        long id, RerunWorkflowRequest? request, HttpContext http, IUserStore users, WorkflowRequests requests, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        var tasks = request?.Tasks ?? [];
        if (tasks.Count > 100 || !tasks.All(RerunCommand.IsTaskName))
        {
            return Results.BadRequest(new ErrorDto("tasks must be a list of at most 100 task names (letters, digits, _ and -), e.g. {\"tasks\": [\"deploy\"]}."));
        }

        var requester = new ExecutionRequester
        {
            Door = caller.Principal.Door == Core.Access.Doors.Cli ? ExecutionDoor.Cli : ExecutionDoor.Api,
            UserName = caller.UserName,
            Address = caller.Address,
        };
        var result = await requests.RerunAsync(id, tasks, caller.Principal, requester,
            c => AuditAsync(http, caller, $"rerun workflow #{number}" + (tasks.Count > 0 ? " from " + string.Join(", ", tasks) : string.Empty), c), ct);
        return result switch
        {
            { Started: { } started } => Results.Created($"/api/v1/executions/{started.Execution.Id}",
                new { execution = ExecutionDto.From(started.Execution, time), rerunOf = id, tasks = started.Tasks }),
            { Outcome: WorkflowRequestOutcome.Forbidden, Execution: { } e } when MayAct(caller, e, Core.Access.Permissions.ExecutionView) =>
                ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WorkflowManage}` on `{e.ActionRef}` to re-run execution #{number}."),
            { Error: { } error } => Results.Conflict(new ErrorDto(error)),
            _ => Results.NotFound(new ErrorDto($"There is no execution #{number}.")),
        };
    }

    private static async Task<IResult> ControlAsync(long id, HttpContext http, IUserStore users, WorkflowRequests requests, bool pause, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        // The requester may pause and resume their own workflow; others need workflow.manage on its action. One who
        // may not even see the execution is answered as if it did not exist, as for every other execution request.
        var number = id.ToString(CultureInfo.InvariantCulture);
        var verb = pause ? "pause" : "resume";
        Task Audit(CancellationToken c) => AuditAsync(http, caller, $"{verb} workflow #{number}", c);
        var result = pause ? await requests.PauseAsync(id, caller.Principal, Audit, ct) : await requests.ResumeAsync(id, caller.Principal, Audit, ct);
        return result switch
        {
            { Outcome: WorkflowRequestOutcome.Done } => Results.Ok(new { id, workflowStatus = result.Status }),
            { Outcome: WorkflowRequestOutcome.Refused, Error: { } error } => Results.Conflict(new ErrorDto(error)),
            { Outcome: WorkflowRequestOutcome.Forbidden, Execution: { } e } when MayAct(caller, e, Core.Access.Permissions.ExecutionView) =>
                ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WorkflowManage}` on `{e.ActionRef}` to {verb} execution #{number}."),
            _ => Results.NotFound(new ErrorDto($"Execution #{number} is not a workflow running on this server.")),
        };
    }

    private static Task AuditAsync(HttpContext http, ApiCaller caller, string command, CancellationToken ct) =>
        http.RequestServices.GetRequiredService<Core.Access.AccessService>().AuditChangeAsync(caller.Principal, Core.Audit.AuditKinds.Command, command, null, ct);

    // Not an access attempt: the refusal was decided (and recorded) by the workflow requests; this only chooses
    // between a 403 that names the permission and a 404 for someone who may not even see the execution.
    private static bool MayAct(ApiCaller caller, ExecutionRecord e, string permission) =>
        Core.Access.AccessService.MayActOnExecution(caller.Principal, e, permission);

    private static async Task<IResult> GetAsync(
        long id, HttpContext http, IUserStore users, ExecutionService executions, IWorkflowStore runs, WorkflowGraphCache graphs, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        if (await executions.GetAsync(id, ct) is not { } execution || !MayAct(caller, execution, Core.Access.Permissions.ExecutionView))
        {
            return Results.NotFound(new ErrorDto($"There is no execution #{number}."));
        }

        if (await runs.GetAsync(id, ct) is not { } run)
        {
            return Results.NotFound(new ErrorDto($"Execution #{number} is not a workflow, or has not started."));
        }

        WorkflowGraph graph;
        try
        {
            graph = graphs.Load(run.WorkflowFile);
        }
        catch (WorkflowLoadException ex)
        {
            return Results.Conflict(new ErrorDto($"The workflow file of execution #{number} no longer loads: {(ex.Errors.Count > 0 ? ex.Errors[0].ToString() : ex.Message)}"));
        }

        WorkflowState state;
        try
        {
            state = http.RequestServices.GetRequiredService<WorkflowStateSeal>().ReadState(run);
        }
        catch (DatastoreException ex)
        {
            // Sealed with a key this server does not have, altered, or empty: say so, as the re-run does.
            return Results.Conflict(new ErrorDto(ex.Message));
        }

        return Results.Ok(WorkflowView.Build(graph, state));
    }
}
