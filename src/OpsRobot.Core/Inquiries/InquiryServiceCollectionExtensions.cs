using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Commands;

namespace OpsRobot.Core.Inquiries;

/// <summary>Registration of inquiries (human approval in workflows).</summary>
public static class InquiryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>inquiry</c> runner (behind <c>core.ask</c>), the service that answers inquiries and the chat
    /// commands <c>approve</c>, <c>deny</c> and <c>answer</c>. The store (<see cref="IInquiryStore"/>) comes from the
    /// storage project.
    /// </summary>
    public static IServiceCollection AddOpsRobotInquiries(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<InquiryOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InquiryService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, InquiryRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, ApproveCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, DenyCommand>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, AnswerCommand>());
        return services;
    }
}
