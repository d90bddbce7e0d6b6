using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;

namespace OpsRobot.Core;

/// <summary>Registration of the engine core.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>Adds the robot, its command registry, the pack catalog and the core pack's built-in commands.</summary>
    public static IServiceCollection AddOpsRobotCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RobotOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PackCatalog>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStatusSource, PackCatalog>(sp => sp.GetRequiredService<PackCatalog>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, HelpCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, PingCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, EchoCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, WhoAmICommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, VersionCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, StatusCommand>());
        services.TryAddSingleton(sp => new CommandRegistry(sp.GetServices<IRobotCommand>()));
        services.TryAddSingleton<Robot>();
        return services;
    }
}
