/** kafkajs ships no types for its internal partitioner module: the test uses only this shape. */
declare module "kafkajs/src/producer/partitioners/default/index.js" {
  const createDefaultPartitioner: () => (args: {
    topic: string;
    partitionMetadata: { partitionId: number; leader: number }[];
    message: { key?: string | null; partition?: number | null };
  }) => number;
  export default createDefaultPartitioner;
}
