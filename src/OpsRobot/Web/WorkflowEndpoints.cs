using System.Globalization;
using System.Text.Json;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Users;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Web;

/// <summary>The workflow API: a workflow execution's task graph with each task's status. See docs/workflows.md.</summary>
internal static class WorkflowEndpoints
{
    public static IEndpointRouteBuilder MapWorkflowApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/executions").WithTags("Executions")
            .MapGet("/{id:long}/workflow", GetAsync)
            .WithSummary("A workflow execution's task graph: tasks with their status, transitions, runs in order, routes, errors, output.");
        return app;
    }

    private static async Task<IResult> GetAsync(
        long id, HttpContext http, IUserStore users, ExecutionService executions, IWorkflowStore runs, WorkflowGraphCache graphs, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is null)
        {
            return ApiCallers.Refused();
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        if (await executions.GetAsync(id, ct) is null)
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

        var state = JsonSerializer.Deserialize<WorkflowState>(run.State) ?? new WorkflowState();
        return Results.Ok(WorkflowView.Build(graph, state));
    }
}
