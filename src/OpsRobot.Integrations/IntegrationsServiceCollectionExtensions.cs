using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Integrations.Alertmanager;
using OpsRobot.Integrations.Cmdb;
using OpsRobot.Integrations.Deploy;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations;

/// <summary>Registers every integration that ships; each folder adds its own line here.</summary>
public static class IntegrationsServiceCollectionExtensions
{
    public static IServiceCollection AddOpsRobotIntegrations(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAlertmanager();
        services.AddSsh();
        services.AddDeploy();
        services.AddNagios();
        services.AddCmdb();
        return services;
    }
}
