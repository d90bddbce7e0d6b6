using OpsRobot.Core.Alerts;
using OpsRobot.Integrations.Alertmanager;

namespace OpsRobot.Hosting;

/// <summary>How the host wires the alert board, its commands and the Alertmanager client (one line each in Composition and ServerHost).</summary>
internal static class AlertsHosting
{
    /// <summary>For every process that answers chat: the board and the <c>alerts</c> pack's commands, configured from <c>OpsRobot:Alerts</c> and <c>OpsRobot:Alertmanager</c>.</summary>
    public static IServiceCollection AddOpsRobotAlertsHosting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOpsRobotAlerts();
        services.Configure<AlertOptions>(configuration.GetSection("OpsRobot:Alerts"));
        services.Configure<AlertmanagerOptions>(configuration.GetSection("OpsRobot:Alertmanager"));
        return services;
    }
}
