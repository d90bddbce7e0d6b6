using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using OpsRobot.Runners.Echo;
using OpsRobot.Runners.Http;
using OpsRobot.Runners.Noop;
using OpsRobot.Runners.Processes;
using OpsRobot.Runners.Script;
using OpsRobot.Runners.Shell;

namespace OpsRobot.Runners;

/// <summary>Registration of the runners that ship with OpsRobot.</summary>
public static class RunnersServiceCollectionExtensions
{
    /// <summary>
    /// Adds the shell, script, http, noop and echo runners as <see cref="IRunner"/> singletons, their options
    /// (<see cref="ProcessRunnerOptions"/>, <see cref="HttpRunnerOptions"/>) and the http runner's named clients.
    /// The shell runner's <see cref="ITemplateRenderer"/> is the core's <see cref="TemplateRenderer"/> unless the
    /// host registered another (the core's <c>AddOpsRobotCore</c> registers the same, with TryAdd).
    /// </summary>
    public static IServiceCollection AddOpsRobotRunners(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ProcessRunnerOptions>();
        services.AddOptions<HttpRunnerOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITemplateRenderer, TemplateRenderer>();

        foreach (var (name, verify, follow) in HttpRunnerClients.All)
        {
            services.AddHttpClient(name)
                .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan) // the runner applies 'timeout' itself
                .ConfigurePrimaryHttpMessageHandler(sp => HttpRunnerClients.CreateHandler(verify, follow, sp.GetRequiredService<IOptions<HttpRunnerOptions>>().Value))

                // The default client logging writes every request URL, and a URL may carry a secret.
                .RemoveAllLoggers();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, ShellRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, ScriptRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, HttpRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, NoopRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, EchoRunner>());
        return services;
    }
}
