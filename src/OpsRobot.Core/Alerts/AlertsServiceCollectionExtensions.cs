using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Commands;

namespace OpsRobot.Core.Alerts;

/// <summary>Registration of the alert board, its commands and its posting loop.</summary>
public static class AlertsServiceCollectionExtensions
{
    /// <summary>
    /// The board, the router and the <c>alerts</c> pack's commands (<c>alerts</c>, <c>ack</c>, <c>silence</c>). Every
    /// process that answers chat needs these; <see cref="AddOpsRobotAlertPosting"/> adds the loop that only the
    /// server runs.
    /// </summary>
    public static IServiceCollection AddOpsRobotAlerts(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AlertOptions>();
        services.TryAddSingleton<AlertRouter>();
        services.TryAddSingleton<AlertBoard>();
        services.TryAddSingleton<AlertAccess>();
        services.TryAddSingleton<AlertPoster>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, AlertsCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, AckCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, SilenceCommand>());
        return services;
    }

    /// <summary>The loop that keeps the board current and posts to rooms: one per deployment (the server).</summary>
    public static IServiceCollection AddOpsRobotAlertPosting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<AlertService>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertService>());
        return services;
    }
}
