using System.Globalization;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Users;
using OpsRobot.Core.Workflows;
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
        api.MapPost("/{id:long}/pause", (long id, HttpContext http, IUserStore users, ExecutionService executions, WorkflowControl control, CancellationToken ct) =>
                ControlAsync(id, http, users, executions, control, pause: true, ct))
            .WithSummary("Pause a running workflow: running tasks finish, nothing new starts until it is resumed.");
        api.MapPost("/{id:long}/resume", (long id, HttpContext http, IUserStore users, ExecutionService executions, WorkflowControl control, CancellationToken ct) =>
                ControlAsync(id, http, users, executions, control, pause: false, ct))
            .WithSummary("Resume a paused workflow.");
        api.MapPost("/{id:long}/rerun", RerunAsync)
            .WithSummary("Re-run a workflow that ended without succeeding from its failed tasks (or the ones named in tasks), keeping what succeeded.");
        return app;
    }

    private static async Task<IResult> RerunAsync(
        long id, RerunWorkflowRequest? request, HttpContext http, IUserStore users, ExecutionService executions, WorkflowRerun rerun, TimeProvider time, CancellationToken ct)
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

        if (await executions.GetAsync(id, ct) is not { } execution || !MayAct(caller, execution, Core.Access.Permissions.ExecutionView))
        {
            return Results.NotFound(new ErrorDto($"There is no execution #{number}."));
        }

        if (!MayAct(caller, execution, Core.Access.Permissions.WorkflowManage))
        {
            return ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WorkflowManage}` on `{execution.ActionRef}` to re-run execution #{number}.");
        }

        var access = http.RequestServices.GetRequiredService<Core.Access.AccessService>();
        await access.AuditChangeAsync(caller.Principal, Core.Audit.AuditKinds.Command,
            $"rerun workflow #{number}" + (tasks.Count > 0 ? " from " + string.Join(", ", tasks) : string.Empty), null, ct);
        try
        {
            var started = await rerun.RerunAsync(id, tasks, new ExecutionRequester
            {
                Door = caller.Principal.Door == Core.Access.Doors.Cli ? ExecutionDoor.Cli : ExecutionDoor.Api,
                UserName = caller.UserName,
                Address = caller.Address,
            }, ct);
            var dto = ExecutionDto.From(started.Execution, time);
            return Results.Created($"/api/v1/executions/{started.Execution.Id}", new { execution = dto, rerunOf = id, tasks = started.Tasks });
        }
        catch (WorkflowRerunException ex)
        {
            return Results.Conflict(new ErrorDto(ex.Message));
        }
    }

    private static async Task<IResult> ControlAsync(long id, HttpContext http, IUserStore users, ExecutionService executions, WorkflowControl control, bool pause, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        // The requester may pause and resume their own workflow; others need workflow.manage on its action.
        var execution = await executions.GetAsync(id, ct);
        if (execution is not null && !MayAct(caller, execution, Core.Access.Permissions.WorkflowManage))
        {
            return ApiCallers.Forbidden($"You need `{Core.Access.Permissions.WorkflowManage}` on `{execution.ActionRef}` to {(pause ? "pause" : "resume")} execution #{id.ToString(CultureInfo.InvariantCulture)}.");
        }

        var access = http.RequestServices.GetRequiredService<Core.Access.AccessService>();
        await access.AuditChangeAsync(caller.Principal, Core.Audit.AuditKinds.Command, $"{(pause ? "pause" : "resume")} workflow #{id.ToString(CultureInfo.InvariantCulture)}", null, ct);

        var result = pause ? await control.PauseAsync(id) : await control.ResumeAsync(id);
        var number = id.ToString(CultureInfo.InvariantCulture);
        return !result.Found
            ? Results.NotFound(new ErrorDto($"Execution #{number} is not a workflow running on this server."))
            : result.Error is { } error
                ? Results.Conflict(new ErrorDto(error))
                : Results.Ok(new { id, workflowStatus = result.Status });
    }

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

        var state = http.RequestServices.GetRequiredService<WorkflowStateSeal>().ReadState(run);
        return Results.Ok(WorkflowView.Build(graph, state));
    }
}
