using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Inquiries;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Rehearsal;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Core.Workflows;

/// <summary>Registration of workflows.</summary>
public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// Adds the workflow language, the <c>workflow</c> runner, rehearsal and recovery. A store of workflow runs
    /// (<see cref="IWorkflowStore"/>) comes from the storage project; a host resumes interrupted workflows by
    /// calling <see cref="WorkflowRecovery.ResumeAsync"/> once the execution service has recovered.
    /// </summary>
    public static IServiceCollection AddOpsRobotWorkflows(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WorkflowExpressions>();
        services.TryAddSingleton<WorkflowLoader>();
        services.TryAddSingleton<WorkflowGraphCache>();
        services.TryAddSingleton<WorkflowRehearsal>();
        services.TryAddSingleton<WorkflowRecovery>();
        services.TryAddSingleton<WorkflowControl>();
        services.TryAddSingleton<WorkflowRerun>();
        services.TryAddSingleton<WorkflowRequests>();
        services.TryAddSingleton(sp => new WorkflowStateSeal(sp.GetService<Datastore.ISecretProtector>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, WorkflowRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Commands.IRobotCommand, PauseCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Commands.IRobotCommand, ResumeCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Commands.IRobotCommand, RerunCommand>());
        services.AddOpsRobotInquiries();
        return services;
    }
}
