using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Workflows;

namespace OpsRobot.Core;

/// <summary>Registration of the engine core.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the engine: the robot and its built-in commands, the pack catalog and loader, the execution service,
    /// the alias dispatcher and the template language. Runners and a chat reply sender come from their own
    /// projects (<c>AddOpsRobotRunners</c>, a chat adapter).
    /// </summary>
    public static IServiceCollection AddOpsRobotCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RobotOptions>();
        services.AddOptions<ExecutionOptions>();
        services.AddOptions<ChatNotifyOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITemplateRenderer, TemplateRenderer>();
        services.TryAddSingleton(sp => new RunnerCatalog(sp.GetServices<IRunner>()));
        services.TryAddSingleton<PackLoader>();
        services.TryAddSingleton<PackCatalog>();
        services.TryAddSingleton<ExecutionEvents>();
        services.AddOptions<Access.AccessOptions>();
        services.TryAddSingleton<Audit.AuditLog>();
        services.TryAddSingleton<Access.AccessService>();
        services.TryAddSingleton<IExecutionGuard, Access.ExecutionAccessGuard>();
        services.TryAddSingleton<ExecutionService>();
        services.TryAddSingleton<AliasDispatcher>();
        services.AddOpsRobotWorkflows();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStatusSource, PackCatalog>(sp => sp.GetRequiredService<PackCatalog>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, HelpCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, PingCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, EchoCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, WhoAmICommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, VersionCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, StatusCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, CancelCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, ExecutionCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, LinkCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, SudoCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, AuditCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, RoleCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, TreeCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, IdentityCommand>());
        services.TryAddSingleton(sp => new CommandRegistry(sp.GetServices<IRobotCommand>()));
        services.TryAddSingleton<Robot>();
        return services;
    }
}
