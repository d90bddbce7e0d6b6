using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Alerts;
using OpsRobot.Integrations.Nagios;

namespace OpsRobot.Integrations;

/// <summary>Registration of the Nagios client, its runner and its alert source.</summary>
public static class NagiosServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="INagiosClient"/>, the <c>nagios</c> runner (<see cref="NagiosRunner"/>) and the <c>nagios</c>
    /// <see cref="IAlertSource"/>, with <see cref="NagiosOptions"/> bound from <c>OpsRobot:Nagios</c> when the host
    /// has a configuration. Nothing touches Nagios until a command runs, so a server without Nagios starts as before.
    /// </summary>
    public static IServiceCollection AddNagios(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NagiosOptions>().Configure<IServiceProvider>((options, provider) =>
        {
            if (provider.GetService(typeof(Microsoft.Extensions.Configuration.IConfiguration)) is Microsoft.Extensions.Configuration.IConfiguration configuration)
            {
                Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration.GetSection(NagiosOptions.Section), options);
            }
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<NagiosCommandPipe>();
        services.TryAddSingleton<INagiosStatusFile, NagiosStatusFile>();
        services.TryAddSingleton<INagiosClient, NagiosClient>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, NagiosRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertSource, NagiosAlertSource>());
        return services;
    }
}
