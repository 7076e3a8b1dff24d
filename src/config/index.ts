/**
 * Configuration: one declarative table per kind (topic, producer, consumer, engine), resolved into frozen,
 * fully defaulted objects, and Kafka's topic name rules. See define.ts for the mechanism.
 */
export {
  describeConfig,
  resolveConfig,
  suggestKey,
  type ConfigDocRow,
  type ConfigKey,
  type ConfigKind,
  type ConfigTable,
  type ConfigType,
  type Validator,
} from './define'
export {
  DEFAULT_TOPIC_CONFIG,
  describeTopicConfig,
  resolveTopicConfig,
  TOPIC_CONFIG,
  type CleanupPolicy,
  type Durability,
  type TimestampType,
  type TopicCompressionType,
  type TopicConfig,
  type TopicConfigInput,
} from './topic-config'
export {
  describeProducerConfig,
  PRODUCER_CONFIG,
  resolveProducerConfig,
  type Acks,
  type Partitioner,
  type PartitionerFunction,
  type ProducerCompressionType,
  type ProducerConfig,
  type ProducerConfigInput,
} from './producer-config'
export {
  CONSUMER_CONFIG,
  describeConsumerConfig,
  resolveConsumerConfig,
  type AssignmentStrategy,
  type AutoOffsetReset,
  type ConsumerConfig,
  type ConsumerConfigInput,
  type IsolationLevel,
} from './consumer-config'
export {
  describeEngineConfig,
  ENGINE_CONFIG,
  resolveEngineConfig,
  type EngineConfig,
  type EngineConfigInput,
} from './engine-config'
export { hasCollisionChars, MAX_TOPIC_NAME_LENGTH, topicNameProblem, topicNamesCollide, validateTopicName } from './topic-name'
